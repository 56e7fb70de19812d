/// `happy auth login --method certificate` (PROTOCOL §6): the browser hand-off for certificates that live in the
/// browser or the OS store. A loopback listener with an unguessable path receives the claim code the server's
/// `/v1/auth/mtls/complete` redirects to; the code is claimed without a client certificate and the result is a
/// keyless login. The wait for the browser and the claim are both inside the login's deadline.
struct BrowserHandoff: LoginStrategy {
    func credentials(_ prepared: Void, _ login: LoginSession) async throws -> LoginCredentials {
        let console = login.console
        let listener = try LoopbackListener(path: "/" + Base64.encodeURL(SigningKeyPair.randomChallenge(count: 24)))
        defer { listener.close() }
        let url = Self.startURL(
            server: login.options.server, returnTo: "http://127.0.0.1:\(listener.port)\(listener.path)")
        console.out(url)
        // The browser gets a private page that redirects to `url`, never `url` itself in its argv, which every local
        // user can read in /proc (README, "Browser hand-off").
        let page = login.options.openBrowser ? login.context.browser.openPrivately(url) : nil
        defer { page?.remove() }
        if page != nil {
            console.err(
                "Opened the browser. Choose your device certificate when it asks; if it did not open, "
                    + "visit the URL above.")
        } else {
            console.err("Open the URL above in the browser that holds your device certificate.")
        }

        let progress = Progress(console: console, label: "Waiting for the browser")
        progress.start(timeoutSeconds: login.deadline.seconds)
        let callback: HandoffCallback
        do {
            let left = try login.deadline.remaining()
            callback = try await login.deadline.waiting { try await listener.waitForCallback(within: left) }
            progress.clear()
        } catch {
            progress.clear()
            throw error
        }
        let code: String
        switch callback {
        case .code(let value):
            code = value
        case .error("restore_required"):
            throw HappyError.refused(
                "this identity belongs to an end-to-end encrypted account (restore_required), which a certificate "
                    + "cannot unlock; log in with `happy auth login --method mobile` (QR code) instead")
        case .error("e2ee-required"): throw ServerRefusal.e2eeRequired()
        case .error("account-disabled"): throw ServerRefusal.accountDisabled(server: login.options.server)
        case .error(let reason):
            throw HappyError.refused(
                "the server ended the certificate sign-in with \"\(TerminalText.excerpt(reason, limit: 60))\"")
        }
        let (token, account) = try await login.withAPI { api in
            let reply = try await login.deadline.bounding { try await api.mtlsClaim(code: code, timeout: $0) }
            let token = try MTLSAnswer.claimedToken(from: reply, api: api)
            // Who the browser's certificate logged this machine in as: nothing else binds the code to this terminal.
            let account = await api.whoAmI(token: token, deadline: login.deadline)
            return (token, account)
        }
        return LoginCredentials(
            accessKey: .keyless(token: token, metadata: nil), summary: "with the browser's certificate (keyless)",
            account: account)
    }

    /// `<server>/v1/auth/mtls/start?returnTo=<percent-encoded loopback URL>`.
    static func startURL(server: ServerURL, returnTo: String) -> String {
        "\(server.string)/v1/auth/mtls/start?returnTo=\(returnTo.percentEncodedUnreserved)"
    }
}
