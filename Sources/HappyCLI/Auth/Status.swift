import ArgumentParser
import HappyKit

extension Happy.Auth {
    struct Status: HappyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show whether this machine is logged in to Happy.",
            discussion: "Reads local files only. Exits 0 when logged in and 1 when not, so scripts can test it.")

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        mutating func run() async throws { try await runLive() }

        func run(in context: HappyContext) async throws {
            let report = StatusReport.load(context: context)
            if json {
                context.console.out(report.json(now: context.timing.now()))
            } else {
                report.show(on: context.console, now: context.timing.now())
            }
            if !report.isLoggedIn { throw ExitStatus.failure }  // the report already said why
        }
    }
}
