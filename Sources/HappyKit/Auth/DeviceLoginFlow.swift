import FoundationEssentials

/// `happy auth login`, the device-keypair flow (PROTOCOL §1): ephemeral box keypair, auth request, approval
/// target (QR or browser), polling with retries, decrypting the answer, storing credentials (PROTOCOL §3).
/// Nothing is written before a valid answer is decrypted; the ephemeral secret key is wiped when the flow ends.
public struct DeviceLoginFlow: Sendable {
    public let options: DeviceLoginOptions
    let context: HappyContext

    public init(options: DeviceLoginOptions, context: HappyContext) {
        self.options = options
        self.context = context
    }

    /// Runs the whole login; returns normally on success or when already logged in.
    public func run() async throws {
        if !options.force, try CredentialsStore(home: context.home).isAlreadyLoggedIn(context: context) { return }
        let store = CredentialsStore(home: context.home)
        let stored = try await store.preparingLogin(context: context, force: options.force, server: options.server) {
            () async throws -> (AccessKey, String)? in
            let method = try await chooseMethod()
            if method == .certificate {
                let handoff = CertificateHandoffOptions(
                    server: options.server, force: options.force, openBrowser: options.openBrowser,
                    timeoutSeconds: options.timeoutSeconds, caFile: options.caFile)
                try await CertificateHandoffFlow(options: handoff, context: context).runAfterPreflight()
                return nil  // the hand-off reported its own result
            }
            // A bad HAPPY_WEBAPP_URL is a usage error before any request.
            if method == .web { _ = try context.webappURL() }
            let keyPair = try BoxKeyPair.generate()  // secret half wiped when keyPair is released
            // One deadline for the whole login, the first request included (`--timeout`).
            let deadline = Deadline(
                end: context.timing.elapsed() + .seconds(options.timeoutSeconds),
                timing: context.timing, seconds: options.timeoutSeconds)
            let answer = try await context.withTransport(TransportOptions(caFile: options.caFile)) { transport in
                let api = HappyAPI(server: options.server, transport: transport)
                let first = try await createRequest(api: api, publicKey: keyPair.publicKey, deadline: deadline)
                try showTarget(method: method, publicKey: keyPair.publicKey)
                return first.state == "authorized"
                    ? first : try await poll(api: api, publicKey: keyPair.publicKey, deadline: deadline)
            }
            let accessKey = try Self.decrypt(answer, with: keyPair)
            return (accessKey, try store.store(accessKey, context: context))
        }
        guard let (accessKey, machineId) = stored else { return }
        context.console.out(
            "\(context.console.checkMark) Logged in (\(accessKey.kindName) credentials). Machine ID: \(machineId)")
        context.console.err("Credentials saved in \(context.home.path). Check them any time with `happy auth status`.")
    }

    private func chooseMethod() async throws -> LoginMethod {
        if let method = options.method { return method }
        guard context.console.canPrompt else { return .mobile }
        return try await MethodPicker(console: context.console).ask(offeringCertificate: await advertisesMTLS())
    }

    /// Whether `GET /v1/features` advertises mTLS, so the picker offers the browser certificate hand-off. Any failure
    /// just leaves the choice out: the QR and web logins do not depend on it.
    private func advertisesMTLS() async -> Bool {
        let advertised = try? await context.withTransport(TransportOptions(caFile: options.caFile)) { transport in
            // A short timeout: the picker must not hang on a slow server just to decide whether to offer choice 3.
            let api = HappyAPI(server: options.server, transport: transport, requestTimeout: .seconds(3))
            let features = try await api.features()
            return features?["features"]?["mtls"]?["enabled"]?.boolValue == true
        }
        return advertised ?? false
    }

    /// The first `POST /v1/auth/request`; transient failures are retried briefly, then reported (exit 69).
    private func createRequest(api: HappyAPI, publicKey: [UInt8], deadline: Deadline) async throws -> AuthRequestReply {
        var backoff = Backoff()
        while true {
            var retryAfter: String?
            do {
                let reply = try await deadline.bounding { try await api.requestAuth(publicKey: publicKey, timeout: $0) }
                if let value = try Self.interpret(reply) { return value }
                guard backoff.failures < 2 else {
                    throw HappyError.serverUnreachable(
                        server: api.server, reason: "it keeps answering HTTP \(reply.status)")
                }
                retryAfter = reply.retryAfter
            } catch let error as HappyError where Self.isTransient(error) && backoff.failures < 2 {
                // retried below
            }
            try await deadline.sleep(backoff.next(random: context.random(), retryAfter: retryAfter))
        }
    }

    /// nil for a retryable answer (5xx / 429); the reply for 200; throws for anything else.
    static func interpret(_ reply: HappyAPI.Reply<AuthRequestReply>) throws -> AuthRequestReply? {
        switch reply.status {
        case 200:
            guard let value = reply.value else { throw HappyError.badResponse("an empty answer") }
            guard value.state == "requested" || value.state == "authorized" else {
                throw HappyError.badResponse(
                    "an unknown request state \"\(TerminalText.excerpt(value.state, limit: 40))\"")
            }
            return value
        case 429, 500...599: return nil
        case 410: throw HappyError.requestExpired  // Happier: {"error":"expired"} (PROTOCOL §7)
        case 401:
            throw HappyError.badResponse(
                "the server rejected our public key (\(TerminalText.excerpt(reply.error ?? "401")))")
        default: throw HappyError.badResponse("POST /v1/auth/request answered HTTP \(reply.status)")
        }
    }

    static func isTransient(_ error: HappyError) -> Bool {
        if case .serverUnreachable = error { return true }
        return false
    }

    private func showTarget(method: LoginMethod, publicKey: [UInt8]) throws {
        let console = context.console
        switch method {
        case .mobile:
            let url = "happy://terminal?" + Base64.encodeURL(publicKey)
            try ApprovalTarget(console: console, inverted: options.qrInverted).showQR(for: url)
            console.err(
                "Scan the QR code with the Happy app to link this terminal (or paste the URL above into the app).")
        case .web, .certificate:
            let url = "\(try context.webappURL())/terminal/connect#key=\(Base64.encodeURL(publicKey))"
            console.out(url)
            if options.openBrowser, context.browser.open(url) {
                console.err("Opened the browser. If it did not open, visit the URL above to approve this terminal.")
            } else {
                console.err(
                    "Open the URL above in a browser where you are logged in to Happy to approve this terminal.")
            }
        }
    }

    /// Polls until authorized or `--timeout`. One failed poll never ends a login: connection failures, timeouts,
    /// 5xx and 429 are retried with capped backoff and jitter (honouring Retry-After).
    private func poll(api: HappyAPI, publicKey: [UInt8], deadline: Deadline) async throws -> AuthRequestReply {
        let start = context.timing.elapsed()
        let progress = Progress(
            console: context.console, label: ApprovalWaitText.label(server: api.server),
            hint: (ApprovalWaitText.hintAfterSeconds, ApprovalWaitText.hint(server: api.server)))
        progress.start(timeoutSeconds: options.timeoutSeconds)
        defer { progress.clear() }
        var backoff = Backoff()
        while true {
            _ = try deadline.remaining()
            progress.tick(elapsedSeconds: Int((context.timing.elapsed() - start).components.seconds))
            var wait = options.pollInterval
            do {
                let reply = try await deadline.bounding { try await api.requestAuth(publicKey: publicKey, timeout: $0) }
                if let value = try Self.interpret(reply) {
                    if backoff.failures > 0 { progress.event("Server reachable again; still waiting for approval.") }
                    backoff.reset()
                    if value.state == "authorized" { return value }
                } else {
                    wait = backoff.next(random: context.random(), retryAfter: reply.retryAfter)
                    progress.event("Server answered HTTP \(reply.status); retrying in \(Self.seconds(wait)) s.")
                }
            } catch let error as HappyError where Self.isTransient(error) {
                wait = backoff.next(random: context.random(), retryAfter: nil)
                progress.event("Poll failed (\(LoggingTransport.reason(error))); retrying in \(Self.seconds(wait)) s.")
            }
            try await deadline.sleep(wait)
        }
    }

    /// Seconds with one decimal, e.g. "1.5".
    static func seconds(_ d: Duration) -> String {
        let tenths =
            d.components.seconds * 10 + (d.components.attoseconds + 50_000_000_000_000_000) / 100_000_000_000_000_000
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// Opens the answer (PROTOCOL §1.5) into credentials. Any malformed part is a `.badResponse` (exit 76).
    static func decrypt(_ answer: AuthRequestReply, with keyPair: BoxKeyPair) throws -> AccessKey {
        guard let token = answer.token, !token.isEmpty else {
            throw HappyError.badResponse("the approval carried no token")
        }
        guard BearerToken.isAcceptable(token) else {
            throw HappyError.badResponse("the approval carried \(BearerToken.problem(token))")
        }
        guard let encoded = answer.response, !encoded.isEmpty else {
            throw HappyError.badResponse("the approval carried no encrypted answer")
        }
        guard let bundle = Base64.decode(encoded) else {
            throw HappyError.badResponse("the encrypted answer is not base64")
        }
        switch try AuthBundle.open(bundle, with: keyPair) {
        case .legacy(let secret):
            return .legacy(secret: secret, token: token)
        case .dataKey(let publicKey):
            return .dataKey(publicKey: publicKey, machineKey: try SecretBytes.random(count: 32), token: token)
        }
    }
}

/// The login's one deadline (`--timeout`): every request and every wait is cut to what is left of it, and running
/// out is `approvalTimedOut` (exit 75) wherever it happens.
struct Deadline: Sendable {
    let end: Duration
    let timing: Timing
    let seconds: Int

    /// What is left; throws `approvalTimedOut` when nothing is.
    func remaining() throws -> Duration {
        let left = end - timing.elapsed()
        guard left > .zero else { throw HappyError.approvalTimedOut(seconds: seconds) }
        return left
    }

    /// Runs a request with at most the time left; a failure after the deadline passed is the timeout itself.
    func bounding<T>(_ request: (Duration) async throws -> T) async throws -> T {
        let left = try remaining()
        do { return try await request(left) } catch let error as HappyError {
            _ = try remaining()
            throw error
        }
    }

    /// Sleeps `wait`, or until the deadline when that comes first (then throws `approvalTimedOut`).
    func sleep(_ wait: Duration) async throws {
        let left = try remaining()
        try await timing.sleep(max(.zero, min(wait, left)))
        if wait >= left { _ = try remaining() }
    }
}
