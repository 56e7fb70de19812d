import Hummingbird
import NIOCore
import NIOSSL

/// Certificate login (PROTOCOL §2) and `GET /v1/features`, following the Happier server's documented behaviour.
struct MTLSRoutes: Sendable {
    let state: ServerState
    let settings: MTLSSettings
    /// Direct mode's optional OCSP check of the peer certificate (Harper's behaviour, seed 002).
    var ocsp: OCSPClientCheck? = nil

    /// The outcome of a certificate login, before any account is touched.
    enum Decision: Equatable {
        case noIdentity
        case notEligible
        case restoreRequired
        case e2eeRequired
        case accountDisabled
        case allowed(identity: String)
    }

    func register(on router: Router<TestServerRequestContext>) {
        router.get("/v1/features") { _, _ in features() }
        router.post("/v1/auth/mtls") { request, context in try await login(request, context: context) }
    }

    func features() -> Response {
        let mtls: JSON =
            settings.isEnabled ? ["enabled": true, "mode": .string(settings.mode.rawValue)] : ["enabled": false]
        return JSONReply.response(["features": ["mtls": mtls]])
    }

    func login(_ request: Request, context: TestServerRequestContext) async throws -> Response {
        guard settings.isEnabled else { return JSONReply.error(.notFound, "Not found") }
        let facts = try await facts(of: request, context: context)
        if let refusal = await revocationRefusal(context) { return refusal }
        switch await decide(facts) {
        case .noIdentity:
            return JSONReply.error(.unauthorized, "client-certificate-required")
        case .notEligible:
            return JSONReply.error(.forbidden, "not-eligible")
        case .restoreRequired:
            return JSONReply.error(.conflict, "restore-required")
        case .e2eeRequired:
            return JSONReply.error(.forbidden, "e2ee-required")
        case .accountDisabled:
            return JSONReply.error(.forbidden, "account-disabled")
        case .allowed(let identity):
            let account = await state.upsertAccount(identity: "mtls:" + identity)
            let token = await state.mintToken(for: account)
            return JSONReply.response(["success": true, "token": .string(token)])
        }
    }

    /// The certificate behind a request: the proxy's headers (forwarded mode, when trusted) or the TLS peer (direct).
    func facts(of request: Request, context: TestServerRequestContext) async throws -> ClientCertificateFacts? {
        switch settings.mode {
        case .forwarded:
            return settings.trustForwardedHeaders
                ? ClientCertificateFacts(headers: request.headers, names: settings.forwardedHeaders) : nil
        case .direct:
            return try await Self.peerFacts(of: context.channel)
        }
    }

    /// Direct mode with an OCSP check: a 403 for a peer certificate the responder says is revoked (or, fail-closed,
    /// that it cannot vouch for); nil to go on.
    func revocationRefusal(_ context: TestServerRequestContext) async -> Response? {
        guard settings.mode == .direct, let ocsp,
            let certificate = try? await context.channel.nioSSL_peerCertificate().get(),
            let der = try? certificate.toDERBytes(),
            let error = await ocsp.refusal(for: der)
        else { return nil }
        return JSONReply.error(.forbidden, error)
    }

    /// Checks in the order the reasons are listed in PROTOCOL §2: certificate, issuer, domain, E2EE, provisioning.
    func decide(_ facts: ClientCertificateFacts?) async -> Decision {
        guard let facts, let identity = facts.identity(preferring: settings.identitySource) else { return .noIdentity }
        guard settings.allowedIssuers.allows(issuer: facts.issuer) else { return .notEligible }
        if !settings.allowedEmailDomains.isEmpty {
            guard let principal = facts.principal(preferring: settings.identitySource),
                let at = principal.lastIndex(of: "@"),
                settings.allowedEmailDomains.contains(String(principal[principal.index(after: at)...]))
            else { return .notEligible }
        }
        if settings.e2eeIdentities.contains(identity) { return .restoreRequired }
        if settings.e2eeRequiredIdentities.contains(identity) { return .e2eeRequired }
        if settings.disabledIdentities.contains(identity) { return .accountDisabled }
        let hasAccount = await state.hasAccount(identity: "mtls:" + identity)
        guard settings.knownIdentities.contains(identity) || hasAccount || settings.autoProvision else {
            return .notEligible
        }
        return .allowed(identity: identity)
    }

    /// Facts from the TLS peer certificate the handshake verified; nil on a plain connection or without one.
    static func peerFacts(of channel: any Channel) async throws -> ClientCertificateFacts? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        do { return try ClientCertificateFacts(der: try certificate.toDERBytes()) } catch {
            throw ErrorReply(status: .unauthorized, message: "unreadable client certificate")
        }
    }
}
