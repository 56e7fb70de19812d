import FoundationEssentials

extension AccountCheck {
    /// `happy auth status --check`: the offline report (naming the server the check asks), then the check; with
    /// `json`, one object whose `check` member holds the result. Returns the exit status: 1 when not logged in (the
    /// report says so), else the check's. A bad server URL is a usage error before anything is printed.
    public static func status(
        json: Bool, serverFlag: ServerURL?, caFile: String?, timeoutSeconds: Int, context: HappyContext
    ) async throws -> ExitStatus {
        let server = try context.serverURL(flag: serverFlag)
        var report = StatusReport.load(context: context)
        report.server = context.server(override: serverFlag?.string)
        let console = context.console
        if !json { report.show(on: console, now: context.timing.now()) }
        var check = AccountCheck(server: server, exitStatus: .failure)
        if report.isLoggedIn {
            check = try await run(
                Options(server: server, caFile: caFile, timeoutSeconds: timeoutSeconds), context: context)
        } else {
            check.error = "not logged in"
        }
        if json {
            console.out(report.json(now: context.timing.now(), adding: [("check", check.json)]))
        } else if report.isLoggedIn {
            check.show(on: console)
        }
        if report.isLoggedIn, check.exitStatus != .ok, let error = check.error { console.error(error) }
        return check.exitStatus
    }

    /// The result in words (stdout); the error line, if any, is shown by the caller on stderr.
    func show(on console: Console) {
        guard accepted == true else { return }
        console.out("")
        console.out("Server check (\(server.hostAndPort))")
        console.out(
            "\(console.checkMark) The server accepts this login" + (accountDescription.map { " (\($0))" } ?? ""))
        switch machineRegistered {
        case true?: console.out("\(console.checkMark) This machine is registered on the account")
        case false?:
            console.out(
                "\(console.crossMark) This machine is not registered on the account yet "
                    + "(the happy daemon registers it when it first starts)")
        case nil: break
        }
    }

    /// "Ada Lovelace, GitHub @ada", escaped for the terminal; nil when the profile names nobody.
    var accountDescription: String? {
        guard let account else { return nil }
        let parts = [account.displayName, account.githubLogin.map { "GitHub @\($0)" }].compactMap { $0 }
        guard !parts.isEmpty else { return account.id.map { "account \(TerminalText.escape($0))" } }
        return "account: " + TerminalText.escape(parts.joined(separator: ", "))
    }

    /// `{"server", "accepted", "account": {"id", "name", "github"} | null, "machineRegistered", "error"}`.
    public var json: JSONValue {
        func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        let accountJSON: JSONValue =
            account.map {
                .object([
                    ("id", string($0.id)), ("name", string($0.displayName)), ("github", string($0.githubLogin)),
                ])
            } ?? .null
        return .object([
            ("server", .string(server.string)),
            ("accepted", accepted.map { .bool($0) } ?? .null),
            ("account", accountJSON),
            ("machineRegistered", machineRegistered.map { .bool($0) } ?? .null),
            ("error", string(error)),
        ])
    }
}
