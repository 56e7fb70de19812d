/// The device-keypair login (PROTOCOL §1): ephemeral box keypair, auth request, approval target (QR code or web
/// link), polling with retries, decrypting the answer. The ephemeral secret key is wiped when the login ends.
struct DeviceApproval: LoginStrategy {
    /// Where the owner approves.
    enum Target: Sendable {
        /// The Happy app scans a QR code of `happy://terminal?<key>`.
        case mobile
        /// The web app at this base URL opens `/terminal/connect#key=<key>`.
        case web(ServerURL)
    }

    let target: Target

    func credentials(_ prepared: Void, _ login: LoginSession) async throws -> LoginCredentials {
        let keyPair = try BoxKeyPair.generate()  // secret half wiped when keyPair is released
        let answer = try await login.withAPI { api in
            let first = try await createRequest(api: api, publicKey: keyPair.publicKey, login: login)
            try showTarget(publicKey: keyPair.publicKey, login: login)
            return first.state == "authorized"
                ? first : try await poll(api: api, publicKey: keyPair.publicKey, login: login)
        }
        let accessKey = try Self.decrypt(answer, with: keyPair)
        return LoginCredentials(accessKey: accessKey, summary: "(\(accessKey.kindName) credentials)")
    }

    /// The first `POST /v1/auth/request`; transient failures are retried briefly, then reported (exit 69).
    private func createRequest(api: HappyAPI, publicKey: [UInt8], login: LoginSession) async throws -> AuthRequestReply
    {
        var backoff = Backoff()
        while true {
            var retryAfter: String?
            do {
                let reply = try await login.deadline.bounding {
                    try await api.requestAuth(publicKey: publicKey, timeout: $0)
                }
                if let value = try Self.interpret(reply) { return value }
                guard backoff.failures < 2 else {
                    throw HappyError.serverUnreachable(
                        server: api.server.string, reason: "it keeps answering HTTP \(reply.status)")
                }
                retryAfter = reply.retryAfter
            } catch let error as HappyError where Self.isTransient(error) && backoff.failures < 2 {
                // retried below
            }
            try await login.deadline.sleep(backoff.next(random: login.context.random(), retryAfter: retryAfter))
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

    private func showTarget(publicKey: [UInt8], login: LoginSession) throws {
        let console = login.console
        switch target {
        case .mobile:
            let url = "happy://terminal?" + Base64.encodeURL(publicKey)
            try ApprovalTarget(console: console, inverted: login.options.qrInverted).showQR(for: url)
            console.err(
                "Scan the QR code with the Happy app to link this terminal (or paste the URL above into the app).")
        case .web(let webapp):
            let url = "\(webapp.string)/terminal/connect#key=\(Base64.encodeURL(publicKey))"
            console.out(url)
            if login.options.openBrowser, login.context.browser.open(url) {
                console.err("Opened the browser. If it did not open, visit the URL above to approve this terminal.")
            } else {
                console.err(
                    "Open the URL above in a browser where you are logged in to Happy to approve this terminal.")
            }
        }
    }

    /// Polls until authorized or the deadline. One failed poll never ends a login: connection failures, timeouts,
    /// 5xx and 429 are retried with capped backoff and jitter (honouring Retry-After).
    private func poll(api: HappyAPI, publicKey: [UInt8], login: LoginSession) async throws -> AuthRequestReply {
        let timing = login.context.timing
        let start = timing.elapsed()
        let progress = Progress(
            console: login.console, label: ApprovalWaitText.label(server: api.server),
            hint: (ApprovalWaitText.hintAfterSeconds, ApprovalWaitText.hint(server: api.server)))
        progress.start(timeoutSeconds: login.deadline.seconds)
        defer { progress.clear() }
        var backoff = Backoff()
        while true {
            _ = try login.deadline.remaining()
            progress.tick(elapsedSeconds: Int((timing.elapsed() - start).components.seconds))
            var wait = login.options.pollInterval
            do {
                let reply = try await login.deadline.bounding {
                    try await api.requestAuth(publicKey: publicKey, timeout: $0)
                }
                if let value = try Self.interpret(reply) {
                    if backoff.failures > 0 { progress.event("Server reachable again; still waiting for approval.") }
                    backoff.reset()
                    if value.state == "authorized" { return value }
                } else {
                    wait = backoff.next(random: login.context.random(), retryAfter: reply.retryAfter)
                    progress.event("Server answered HTTP \(reply.status); retrying in \(Self.seconds(wait)) s.")
                }
            } catch let error as HappyError where Self.isTransient(error) {
                wait = backoff.next(random: login.context.random(), retryAfter: nil)
                progress.event("Poll failed (\(LoggingTransport.reason(error))); retrying in \(Self.seconds(wait)) s.")
            }
            try await login.deadline.sleep(wait)
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
