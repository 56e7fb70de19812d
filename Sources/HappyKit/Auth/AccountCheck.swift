import FoundationEssentials

/// `happy auth status --check` (PROTOCOL §7): asks the server, with the stored token, whether it still accepts this
/// login (`GET /v1/account/profile`) and whether this machine is registered on the account (`GET /v1/machines/<id>`).
/// Reads the home only; never writes it, whatever the server answers. The whole check is bounded by one deadline.
public struct AccountCheck: Sendable {
    /// What the check asks and how.
    public struct Options: Sendable {
        public var server: ServerURL
        public var caFile: String?
        public var timeoutSeconds: Int

        public init(server: ServerURL, caFile: String?, timeoutSeconds: Int) {
            self.server = server
            self.caFile = caFile
            self.timeoutSeconds = timeoutSeconds
        }
    }

    public var server: ServerURL
    /// true: the token is accepted; false: refused (401/403); nil: not asked or no usable answer.
    public var accepted: Bool?
    public var account: ProfileReply?
    /// true: registered; false: not yet (404); nil: not asked (no machine id, or the check failed first).
    public var machineRegistered: Bool?
    /// The one line shown on stderr when the check did not succeed.
    public var error: String?
    public var exitStatus: ExitStatus

    /// The default and the largest `--timeout` of the check, in seconds.
    public static let defaultTimeoutSeconds = 15
    public static let maximumTimeoutSeconds = 300

    /// Runs the check. Every failure is a result (with its exit status), except cancellation, which is rethrown.
    public static func run(_ options: Options, context: HappyContext) async throws -> AccountCheck {
        var result = AccountCheck(server: options.server, exitStatus: .ok)
        let key: AccessKey?
        do { key = try AccessKey.load(from: context.home) } catch let error as HappyError {
            return result.failing(error)
        }
        guard let key else {
            result.error = "happy: not logged in, so there is nothing to check; run `happy auth login`."
            result.exitStatus = .failure
            return result
        }
        let machineId = (try? Settings.load(from: context.home))?.machineId
        do {
            try await context.withTransport(TransportOptions(caFile: options.caFile)) { transport in
                let api = HappyAPI(
                    server: options.server, transport: transport, requestTimeout: .seconds(options.timeoutSeconds))
                let deadline = CheckDeadline(
                    end: context.timing.elapsed() + .seconds(options.timeoutSeconds), options: options,
                    timing: context.timing)
                let profile = try await deadline.bounding {
                    try await api.accountProfile(token: key.token, timeout: $0)
                }
                try Self.require(status: profile.status, of: "GET /v1/account/profile", server: options.server.string)
                result.accepted = true
                result.account = profile.value
                guard let machineId else { return }
                let machine = try await deadline.bounding {
                    try await api.machine(id: machineId, token: key.token, timeout: $0)
                }
                if machine.status == 404 {
                    result.machineRegistered = false
                } else {
                    try Self.require(status: machine.status, of: "GET /v1/machines/<id>", server: options.server.string)
                    result.machineRegistered = true
                }
            }
        } catch let error as HappyError {
            return result.failing(error)
        }
        return result
    }

    /// Throws what a non-200 answer means: 401/403 refused (exit 77), 429/5xx unavailable (69), anything else a
    /// bad response (76, for example a 404 from something that is not a Happy server).
    static func require(status: Int, of request: String, server: String) throws {
        switch status {
        case 200: return
        case 401, 403:
            throw HappyError.refused(
                "the server no longer accepts this login (HTTP \(status)); run happy auth login --force")
        case 429, 500...599:
            throw HappyError.serverUnreachable(server: server, reason: "it answered HTTP \(status)")
        default:
            throw HappyError.badResponse("\(request) answered HTTP \(status)")
        }
    }

    private func failing(_ error: HappyError) -> AccountCheck {
        var copy = self
        if error.exitStatus == .refused { copy.accepted = false } else if copy.accepted != true { copy.accepted = nil }
        copy.error = error.userMessage
        copy.exitStatus = error.exitStatus
        return copy
    }
}

/// The check's one deadline: each request gets what is left of `--timeout`; running out is "unreachable" (exit 69).
private struct CheckDeadline: Sendable {
    let end: Duration
    let options: AccountCheck.Options
    let timing: Timing

    private var expired: HappyError {
        .serverUnreachable(server: options.server.string, reason: "no answer within \(options.timeoutSeconds) s")
    }

    func bounding<T>(_ request: (Duration) async throws -> T) async throws -> T {
        let left = end - timing.elapsed()
        guard left > .zero else { throw expired }
        do { return try await request(left) } catch let error as HappyError {
            if end - timing.elapsed() <= .zero { throw expired }
            throw error
        }
    }
}
