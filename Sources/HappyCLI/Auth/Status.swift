import ArgumentParser
import HappyKit

extension Happy.Auth {
    struct Status: HappyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show whether this machine is logged in to Happy.",
            discussion: """
                Reads local files only. Exits 0 when logged in and 1 when not, so scripts can test it. With --check \
                it also asks the server whether it still accepts this login: 77 when it no longer does, 69 when it \
                cannot be reached.
                """)

        @Flag(help: "Print one JSON object instead of text.")
        var json = false
        @Flag(help: "Also ask the server whether it still accepts this login and knows this machine.")
        var check = false
        @Option(
            help: ArgumentHelp(
                "With --check: seconds the check may take (default \(AccountCheck.defaultTimeoutSeconds)).",
                valueName: "seconds"))
        var timeout: Int?
        @OptionGroup var serverOptions: ServerOptions

        var wantsDebug: Bool { serverOptions.debug }

        func validate() throws {
            if !check, serverOptions.server != nil || serverOptions.ca != nil || timeout != nil {
                throw ValidationError("--server, --ca and --timeout apply to --check only; status alone reads files")
            }
            if let timeout, !(1...AccountCheck.maximumTimeoutSeconds).contains(timeout) {
                throw ValidationError("--timeout must be between 1 and \(AccountCheck.maximumTimeoutSeconds) seconds")
            }
        }

        mutating func run() async throws { try await runLive() }

        func run(in context: HappyContext) async throws {
            var status = ExitStatus.ok
            if check {
                status = try await AccountCheck.status(
                    json: json, serverFlag: serverOptions.server,
                    caFile: context.caFile(override: serverOptions.ca),
                    timeoutSeconds: timeout ?? AccountCheck.defaultTimeoutSeconds, context: context)
            } else {
                status = Self.report(json: json, in: context)
            }
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
