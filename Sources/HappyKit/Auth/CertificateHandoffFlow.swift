import FoundationEssentials

/// Options of `happy auth login --method certificate`.
public struct CertificateHandoffOptions: Sendable {
    public var server: String
    public var force: Bool
    public var openBrowser: Bool
    public var timeoutSeconds: Int
    public var caFile: String?

    public init(
        server: String, force: Bool = false, openBrowser: Bool = true, timeoutSeconds: Int = 300,
        caFile: String? = nil
    ) {
        self.server = server
        self.force = force
        self.openBrowser = openBrowser
        self.timeoutSeconds = timeoutSeconds
        self.caFile = caFile
    }
}

/// `happy auth login --method certificate` (PROTOCOL §6): the browser hand-off for certificates that live in the
/// browser or the OS store. A loopback listener with an unguessable path receives the claim code the server's
/// `/v1/auth/mtls/complete` redirects to; the code is claimed without a client certificate and the result is a
/// keyless login. Nothing is written unless the claim succeeds.
public struct CertificateHandoffFlow: Sendable {
    public let options: CertificateHandoffOptions
    let context: HappyContext

    public init(options: CertificateHandoffOptions, context: HappyContext) {
        self.options = options
        self.context = context
    }

    public func run() async throws {
        if !options.force, try CredentialsStore(home: context.home).isAlreadyLoggedIn(context: context) { return }
        try await CredentialsStore(home: context.home).preparingLogin(
            context: context, force: options.force, server: options.server
        ) { try await runAfterPreflight() }
    }

    /// The hand-off itself, inside a login's preparation (`CredentialsStore.preparingLogin`; the method picker of
    /// `DeviceLoginFlow` calls this from within its own).
    func runAfterPreflight() async throws {
        let console = context.console
        let listener = try LoopbackListener(path: "/" + Base64.encodeURL(SigningKeyPair.randomChallenge(count: 24)))
        defer { listener.close() }
        let url = Self.startURL(server: options.server, returnTo: "http://127.0.0.1:\(listener.port)\(listener.path)")
        console.out(url)
        if options.openBrowser, context.browser.open(url) {
            console.err(
                "Opened the browser. Choose your device certificate when it asks; if it did not open, "
                    + "visit the URL above.")
        } else {
            console.err("Open the URL above in the browser that holds your device certificate.")
        }

        let callback = try await waitForCallback(listener)
        let code: String
        switch callback {
        case .code(let value):
            code = value
        case .error("restore_required"):
            throw HappyError.refused(
                "this identity belongs to an end-to-end encrypted account (restore_required), which a certificate "
                    + "cannot unlock; log in with `happy auth login --method mobile` (QR code) instead")
        case .error("e2ee-required"): throw ServerRefusal.e2eeRequired()
        case .error("account-disabled"): throw ServerRefusal.accountDisabled(server: options.server)
        case .error(let reason):
            throw HappyError.refused(
                "the server ended the certificate sign-in with \"\(TerminalText.excerpt(reason, limit: 60))\"")
        }

        let token = try await context.withTransport(TransportOptions(caFile: options.caFile)) { transport in
            try await claim(code, api: HappyAPI(server: options.server, transport: transport))
        }
        let machineId = try CredentialsStore(home: context.home)
            .store(.keyless(token: token, metadata: nil), context: context)
        console.out("\(console.checkMark) Logged in with the browser's certificate (keyless). Machine ID: \(machineId)")
        console.err("Credentials saved in \(context.home.path). Check them any time with `happy auth status`.")
    }

    /// `<server>/v1/auth/mtls/start?returnTo=<percent-encoded loopback URL>`.
    static func startURL(server: String, returnTo: String) -> String {
        "\(server)/v1/auth/mtls/start?returnTo=\(returnTo.percentEncodedUnreserved)"
    }

    /// The listener's one callback, or `approvalTimedOut` once `--timeout` seconds pass. Cancellation (Ctrl-C)
    /// closes the listener and propagates.
    private func waitForCallback(_ listener: LoopbackListener) async throws -> HandoffCallback {
        let progress = Progress(console: context.console, label: "Waiting for the browser")
        progress.start(timeoutSeconds: options.timeoutSeconds)
        defer { progress.clear() }
        let timing = context.timing
        let seconds = options.timeoutSeconds
        let first = try await withThrowingTaskGroup(of: HandoffCallback?.self) { group in
            group.addTask { try await listener.waitForCallback() }
            group.addTask {
                try await timing.sleep(.seconds(seconds))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let first else {
            listener.close()
            throw HappyError.approvalTimedOut(seconds: seconds)
        }
        return first
    }

    /// Each answer of `POST /v1/auth/mtls/claim` as one line the user can act on.
    private func claim(_ code: String, api: HappyAPI) async throws -> String {
        let reply = try await api.mtlsClaim(code: code)
        switch reply.status {
        case 200:
            guard let token = reply.value?.token, !token.isEmpty else {
                throw HappyError.badResponse("the claim succeeded but carried no token")
            }
            guard BearerToken.isAcceptable(token) else {
                throw HappyError.badResponse("the claim carried \(BearerToken.problem(token))")
            }
            return token
        case 401:
            throw HappyError.refused(
                "the server refused the sign-in code (401 \(reply.error ?? "invalid-code")): it "
                    + "expired or was already used. Run `happy auth login --method certificate` again")
        case 403 where reply.error == "account-disabled":
            throw ServerRefusal.accountDisabled(server: options.server)
        case 403:
            throw HappyError.refused("the server refused this account (403 \(reply.error ?? "forbidden"))")
        case 409:
            throw HappyError.refused(
                "this identity belongs to an end-to-end encrypted account (409 restore-required), which a certificate "
                    + "cannot unlock; log in with `happy auth login --method mobile` (QR code) instead")
        case 404:
            throw HappyError.failed(
                "the browser certificate hand-off is not enabled on \(options.server) (HTTP 404 "
                    + "for /v1/auth/mtls/claim)")
        default:
            throw HappyError.badResponse("POST /v1/auth/mtls/claim answered HTTP \(reply.status)")
        }
    }
}
