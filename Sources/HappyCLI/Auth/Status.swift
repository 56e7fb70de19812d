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
            let status = Self.report(json: json, in: context)
            if status != .ok { throw status }  // the report already said why
        }

        /// The whole command, synchronous, shared by the parsed path and `Entry`'s fast path: reads the home,
        /// prints the report, and answers `.ok` when logged in, `.failure` when not.
        static func report(json: Bool, in context: HappyContext) -> ExitStatus {
            let report = StatusReport.load(context: context)
            if json {
                context.console.out(report.json(now: context.timing.now()))
            } else {
                report.show(on: context.console, now: context.timing.now())
            }
            return report.isLoggedIn ? .ok : .failure
        }

        /// The `--json` flag of the two command lines `Entry` answers without the parser — exactly `auth status`
        /// and `auth status --json` — or nil for anything else, which then goes through ArgumentParser.
        static func fastPath(_ arguments: ArraySlice<String>) -> Bool? {
            guard arguments.count <= 3, arguments.starts(with: ["auth", "status"]) else { return nil }
            switch arguments.dropFirst(2).first {
            case nil: return false
            case "--json": return true
            default: return nil
            }
        }
    }
}
