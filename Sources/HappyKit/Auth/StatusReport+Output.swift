import FoundationEssentials

extension StatusReport {
    /// Human text on stdout (the problem line, if any, on stderr).
    public func show(on console: Console, now: Date) {
        // Every value here comes from files (or the environment): shown with control characters escaped.
        func e(_ text: String) -> String { TerminalText.escape(text) }
        if let problem { console.error(e(problem)) }
        for warning in warnings { console.warn(warning) }
        console.out("Authentication Status")
        console.out("")
        if isLoggedIn {
            console.out("\(console.checkMark) Authenticated (\(credentialType ?? "?"))")
            console.out("  Token: \(e(tokenPreview ?? ""))")
        } else {
            console.out("\(console.crossMark) Not authenticated")
            console.out("  Run 'happy auth login' to link this machine.")
        }
        if let certificate {
            console.out("  Identity: \(e(certificate.identity)) (from \(e(certificate.source)))")
            console.out("  Issuer: \(e(certificate.issuer))")
            console.out("  Fingerprint: \(e(certificate.fingerprint))")
            if let uri = certificate.tokenURI { console.out("  Token: \(e(uri))") }
            if let path = certificate.tpmKeyPath { console.out("  TPM key: \(e(path))") }
            let left = certificateDaysLeft(now: now)
            let expiry = "  Certificate expires: \(e(certificate.notAfter))"
            if let left, left < 0 {
                console.out(expiry + " " + console.paint("(expired; log in again with a renewed certificate)", .red))
            } else if let left, Double(left) < ClientIdentity.expiryWarningDays {
                console.out(
                    expiry + " " + console.paint("(in \(left) day\(left == 1 ? "" : "s"); renew it soon)", .yellow))
            } else {
                console.out(expiry)
            }
        }
        if let machineId {
            console.out("\(console.checkMark) Machine registered")
            console.out("  Machine ID: \(e(machineId))")
        } else {
            console.out("\(console.crossMark) No machine ID")
        }
        console.out("  Host: \(e(host))")
        for (label, url) in [("Server", serverURL), ("Web app", webappURL)] {
            let origin = Self.origin(url.source, which: label == "Server" ? "server" : "webapp")
            if let problem = url.problem {
                console.out(
                    "  \(label): \(e(url.shown)) (\(origin)) "
                        + console.paint("invalid: \(e(problem)); login would refuse it", .red))
            } else {
                console.out("  \(label): \(e(url.shown)) (\(origin))")
            }
        }
        console.out("")
        console.out("  Data directory: \(e(dataDirectory))")
        if daemonRunning {
            console.out("\(console.checkMark) Daemon running (pid \(daemonPid.map(String.init) ?? "?"))")
        } else {
            console.out("\(console.crossMark) Daemon not running")
        }
        if let daemonNote { console.out("  \(e(daemonNote))") }
    }

    /// One JSON object, whatever the state; `adding` appends members (`status --check`'s `check`).
    public func json(now: Date, adding extra: [(String, JSONValue)] = []) -> String {
        var pairs: [(String, JSONValue)] = [
            ("loggedIn", .bool(isLoggedIn)),
            ("credentialType", credentialType.map { .string($0) } ?? .null),
            ("tokenPreview", tokenPreview.map { .string($0) } ?? .null),
            ("machineId", machineId.map { .string($0) } ?? .null),
            ("host", .string(host)),
            ("dataDirectory", .string(dataDirectory)),
            ("server", serverURL.json),
            ("webapp", webappURL.json),
            (
                "daemon",
                .object(
                    [("running", .bool(daemonRunning)), ("pid", daemonPid.map { .number(String($0)) } ?? .null)]
                        + (daemonNote.map { [("note", JSONValue.string($0))] } ?? []))
            ),
        ]
        if let certificate {
            let daysLeft = certificateDaysLeft(now: now).map { JSONValue.number(String($0)) } ?? .null
            pairs.append(("certificate", .object(certificate.fields(insertingAfterNotAfter: [("daysLeft", daysLeft)]))))
        }
        if let problem { pairs.append(("problem", .string(problem))) }
        if !warnings.isEmpty { pairs.append(("warnings", .array(warnings.map { .string($0) }))) }
        return JSONValue.object(pairs + extra).compact(escapingAllControls: true)
    }

    /// Where the server came from, in words (`--json` says `flag`, `environment`, `settings` or `default`).
    var serverOrigin: String { Self.origin(server.source, which: "server") }

    static func origin(_ source: ResolvedURL.Source, which: String) -> String {
        switch source {
        case .flag: "from --server"
        case .environment: which == "server" ? "from HAPPY_SERVER_URL" : "from HAPPY_WEBAPP_URL"
        case .settings: which == "server" ? "from serverUrl in settings.json" : "from webappUrl in settings.json"
        case .default: "default"
        }
    }
}
