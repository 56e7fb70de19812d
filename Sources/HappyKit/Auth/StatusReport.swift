import FoundationEssentials

/// `happy auth status`: what the home says about this machine. Reads files only: no network, no transport.
public struct StatusReport: Sendable {
    public var isLoggedIn: Bool
    public var credentialType: String?
    public var tokenPreview: String?
    public var machineId: String?
    public var host: String
    public var dataDirectory: String
    public var daemonPid: Int32?
    public var daemonRunning: Bool
    /// Why a daemon.state.json was not believed (invalid, stale, or naming a process that is not the daemon).
    public var daemonNote: String?
    public var certificate: CertificateLoginMetadata?
    /// The server a login or approve would use now, and where it came from (status has no --server flag).
    public var server: ResolvedURL
    /// The server and web app URLs as shown: redacted, and marked invalid with the reason when login would refuse them.
    public var serverURL: StatusURL { StatusURL(server, which: "server") }
    public var webapp = ResolvedURL(url: ResolvedURL.defaultWebapp, source: .default)
    public var webappURL: StatusURL { StatusURL(webapp, which: "webapp") }
    /// ssh-style warnings about the home's permissions (stderr; `warnings` in JSON).
    public var warnings: [String] = []
    /// A problem reading the files (corrupt access.key, unreadable settings), as one line.
    public var problem: String?

    public static func load(context: HappyContext) -> StatusReport {
        let home = context.home
        var report = StatusReport(
            isLoggedIn: false, credentialType: nil, tokenPreview: nil, machineId: nil, host: context.hostName,
            dataDirectory: home.path, daemonPid: nil, daemonRunning: false, daemonNote: nil, certificate: nil,
            server: ResolvedURL(url: ResolvedURL.defaultServer, source: .default), problem: nil)
        do {
            if let key = try AccessKey.load(from: home) {
                report.isLoggedIn = true
                report.credentialType = key.kindName
                report.tokenPreview = Self.preview(key.token)
                if case .keyless(_, let metadata) = key { report.certificate = metadata }
            }
        } catch let error as HappyError {
            report.problem = error.userMessage
        } catch {
            report.problem = "happy: cannot read credentials"
        }
        var settings: Settings?  // read once: the machine id and the server both come from it
        do { settings = try Settings.load(from: home) } catch let error as HappyError {
            report.problem = report.problem ?? error.userMessage
        } catch {}
        report.machineId = settings?.machineId
        report.warnings = home.permissionWarnings()
        report.server = ResolvedURL.server(flag: nil, environment: context.environment, settings: settings)
        report.webapp = ResolvedURL.webapp(environment: context.environment, settings: settings)
        switch DaemonState.read(from: home) {
        case .none: break
        case .invalid(let why): report.daemonNote = why
        case .valid(let daemon):
            report.daemonPid = daemon.pid
            if !context.processes.isAlive(daemon.pid) {
                report.daemonNote = "daemon.state.json is stale: pid \(daemon.pid) is not running"
            } else {
                let proof = context.processes.proveDaemon(daemon.pid, home)
                report.daemonRunning = proof.isProven
                if !proof.isProven { report.daemonNote = "daemon.state.json names \(proof.reason)" }
            }
        }
        return report
    }

    /// A token preview that never shows the whole token: at most 12 characters and at most a third of it.
    public static func preview(_ token: String) -> String {
        let shown = min(12, token.count / 3)
        return String(token.prefix(shown)) + "..."
    }

    /// Days until the certificate of an mTLS login expires (`ClientIdentity.daysLeft`); negative once expired.
    public func certificateDaysLeft(now: Date) -> Int? {
        guard let text = certificate?.notAfter, let date = try? Date(text, strategy: .iso8601) else { return nil }
        return ClientIdentity.daysLeft(until: date, now: now)
    }
}
