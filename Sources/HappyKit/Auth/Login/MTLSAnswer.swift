/// What the server's answers to the certificate logins mean (PROTOCOL §2, §6), each outcome one line the user can act
/// on. A token is checked (`BearerToken`) before anything is stored.
enum MTLSAnswer {
    /// `POST /v1/auth/mtls`.
    static func token(from reply: HappyAPI.Reply<TokenReply>, api: HappyAPI, deadline: Deadline) async throws
        -> String
    {
        switch reply.status {
        case 200:
            return try checked(reply.value?.token, what: "the mTLS login")
        case 401:
            throw HappyError.refused(
                "the server saw no client certificate (HTTP 401). If a proxy terminates TLS in front of it, the "
                    + "proxy is not asking for or not forwarding the certificate (nginx: ssl_verify_client)")
        case 403 where reply.error == "e2ee-required": throw ServerRefusal.e2eeRequired()
        case 403 where reply.error == "account-disabled": throw ServerRefusal.accountDisabled(server: api.server)
        case 403 where reply.error == "certificate-revoked":
            throw HappyError.refused(
                "the server refused this certificate as revoked (403 certificate-revoked); ask for a new certificate")
        case 403:
            throw HappyError.refused(
                "the server refused this certificate (403 not-eligible): its issuer or e-mail "
                    + "domain is not allowed, or the identity is unknown and auto-provisioning is off. Ask your Happy "
                    + "administrator to allow it")
        case 409:
            throw HappyError.refused(
                "this identity belongs to an end-to-end encrypted account (409 restore-required), "
                    + "which a certificate cannot unlock; log in with `happy auth login` (QR code) instead")
        case 400 where reply.bodyPrefix.contains("No required SSL certificate was sent"):
            throw HappyError.refused(
                "the TLS proxy in front of \(api.server) received no client certificate (HTTP 400)")
        case 400 where reply.bodyPrefix.contains("SSL certificate error"):
            throw HappyError.refused(
                "the server did not accept this certificate: the TLS proxy could not verify it "
                    + "(HTTP 400). Check that it was issued by your company's CA and has not been revoked")
        case 404:
            let features = try? await deadline.bounding { try await api.features(timeout: $0) }
            let detail =
                features?.mtlsEnabled == true
                ? "it advertises mTLS in /v1/features, but /v1/auth/mtls is missing; check the proxy's routes"
                : "GET /v1/features does not advertise mTLS; an administrator must enable "
                    + "HAPPIER_FEATURE_AUTH_MTLS__ENABLED"
            throw HappyError.failed("mTLS login is not enabled on \(api.server) (HTTP 404): \(detail)")
        default:
            throw HappyError.badResponse(
                "POST /v1/auth/mtls answered HTTP \(reply.status)"
                    + (reply.error.map { " (\(TerminalText.excerpt($0)))" } ?? ""))
        }
    }

    /// `POST /v1/auth/mtls/claim` of the browser hand-off.
    static func claimedToken(from reply: HappyAPI.Reply<TokenReply>, api: HappyAPI) throws -> String {
        switch reply.status {
        case 200:
            return try checked(reply.value?.token, what: "the claim")
        case 401:
            throw HappyError.refused(
                "the server refused the sign-in code (401 \(reply.error ?? "invalid-code")): it "
                    + "expired or was already used. Run `happy auth login --method certificate` again")
        case 403 where reply.error == "account-disabled":
            throw ServerRefusal.accountDisabled(server: api.server)
        case 403:
            throw HappyError.refused("the server refused this account (403 \(reply.error ?? "forbidden"))")
        case 409:
            throw HappyError.refused(
                "this identity belongs to an end-to-end encrypted account (409 restore-required), which a certificate "
                    + "cannot unlock; log in with `happy auth login --method mobile` (QR code) instead")
        case 404:
            throw HappyError.failed(
                "the browser certificate hand-off is not enabled on \(api.server) (HTTP 404 for /v1/auth/mtls/claim)")
        default:
            throw HappyError.badResponse("POST /v1/auth/mtls/claim answered HTTP \(reply.status)")
        }
    }

    private static func checked(_ token: String?, what: String) throws -> String {
        guard let token, !token.isEmpty else { throw HappyError.badResponse("\(what) succeeded but carried no token") }
        guard BearerToken.isAcceptable(token) else {
            throw HappyError.badResponse("\(what) carried \(BearerToken.problem(token))")
        }
        return token
    }
}
