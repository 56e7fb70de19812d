import Foundation
import Hummingbird

/// The browser hand-off of PROTOCOL §2 as Happier serves it (seed 000): `GET /v1/auth/mtls/start?returnTo=` → 302 to
/// `/v1/auth/mtls/complete?returnTo=` → (certificate checked) 302 to `returnTo?code=` (or `?error=restore_required`);
/// `POST /v1/auth/mtls/claim {"code"}` trades a single-use code, valid for the claim TTL, for a token.
struct MTLSHandoffRoutes: Sendable {
    let state: ServerState
    let settings: MTLSSettings
    let login: MTLSRoutes

    func register(on router: Router<TestServerRequestContext>) {
        router.get("/v1/auth/mtls/start") { request, _ in try start(request) }
        router.get("/v1/auth/mtls/complete") { request, context in try await complete(request, context: context) }
        router.post("/v1/auth/mtls/claim") { request, _ in try await claim(request) }
    }

    func start(_ request: Request) throws -> Response {
        guard settings.isEnabled else { return JSONReply.error(.notFound, "Not found") }
        let returnTo = try allowedReturnTo(request)
        return Self.redirect(to: "/v1/auth/mtls/complete?returnTo=" + Self.encode(returnTo))
    }

    func complete(_ request: Request, context: TestServerRequestContext) async throws -> Response {
        guard settings.isEnabled else { return JSONReply.error(.notFound, "Not found") }
        let returnTo = try allowedReturnTo(request)
        let facts = try await login.facts(of: request, context: context)
        if let refusal = await login.revocationRefusal(context) { return refusal }
        switch await login.decide(facts) {
        case .noIdentity:
            return JSONReply.error(.unauthorized, "mtls-required")
        case .notEligible:
            return JSONReply.error(.forbidden, "not-eligible")
        case .restoreRequired:
            return Self.redirect(to: Self.appending("error", "restore_required", to: returnTo))
        case .e2eeRequired:
            return Self.redirect(to: Self.appending("error", "e2ee-required", to: returnTo))
        case .accountDisabled:
            return Self.redirect(to: Self.appending("error", "account-disabled", to: returnTo))
        case .allowed(let identity):
            let account = await state.upsertAccount(identity: "mtls:" + identity)
            let code = await state.makeClaimCode(for: account, ttl: .seconds(settings.claimTTLSeconds))
            return Self.redirect(to: Self.appending("code", code, to: returnTo))
        }
    }

    func claim(_ request: Request) async throws -> Response {
        guard settings.isEnabled else { return JSONReply.error(.notFound, "Not found") }
        let code = try await JSONBody.read(request).string("code")
        guard let account = await state.consumeClaimCode(code.trimmingWhitespace()) else {
            return JSONReply.error(.unauthorized, "invalid-code")
        }
        if let identity = await state.identity(ofAccount: account), identity.hasPrefix("mtls:"),
            settings.disabledAtClaimIdentities.contains(String(identity.dropFirst("mtls:".count)))
        {
            return JSONReply.error(.forbidden, "account-disabled")
        }
        let token = await state.mintToken(for: account)
        return JSONReply.response(["success": true, "token": .string(token)])
    }

    private func allowedReturnTo(_ request: Request) throws -> String {
        let returnTo = request.uri.queryParameters.get("returnTo").map { String($0) } ?? ""
        guard ReturnToAllowList(entries: settings.returnToAllowPrefixes).allows(returnTo) else {
            throw ErrorReply(status: .badRequest, message: "invalid-returnTo")
        }
        return returnTo
    }

    static func redirect(to location: String) -> Response {
        Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// `url` with `name=value` set in its query (as `URL.searchParams.set` does).
    static func appending(_ name: String, _ value: String, to url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        var items = (components.queryItems ?? []).filter { $0.name != name }
        items.append(URLQueryItem(name: name, value: value))
        components.queryItems = items
        return components.string ?? url
    }
}

/// Happier's `returnTo` check (seed 000): `scheme://` entries allow that scheme; other non-http prefixes match as
/// text prefixes; http(s) entries must match scheme, host and effective port exactly, plus the entry's path as a
/// path prefix. So `https://app.example.com.evil.com/` never passes for `https://app.example.com`.
struct ReturnToAllowList {
    let entries: [String]

    func allows(_ raw: String) -> Bool {
        let text = raw.trimmingWhitespace()
        guard !text.isEmpty, let url = URLComponents(string: text), let scheme = url.scheme?.lowercased() else {
            return false
        }
        for entry in entries.map({ $0.trimmingWhitespace() }) where !entry.isEmpty {
            let lowered = entry.lowercased()
            if lowered.hasSuffix("://"), !lowered.dropLast(3).contains(where: { $0 == "/" || $0 == ":" }) {
                if scheme == String(lowered.dropLast(3)) { return true }
                continue
            }
            let isHTTP = lowered.hasPrefix("http://") || lowered.hasPrefix("https://")
            if !isHTTP {
                if lowered.contains("://"), text.lowercased().hasPrefix(lowered) { return true }
                continue
            }
            guard let allowed = URLComponents(string: entry), let allowedScheme = allowed.scheme?.lowercased(),
                let allowedHost = allowed.host?.lowercased(), !allowedHost.isEmpty
            else { continue }
            guard scheme == allowedScheme, url.host?.lowercased() == allowedHost,
                Self.port(url) == Self.port(allowed), Self.pathMatches(prefix: allowed.path, path: url.path)
            else { continue }
            return true
        }
        return false
    }

    static func port(_ url: URLComponents) -> Int? {
        url.port ?? (url.scheme?.lowercased() == "https" ? 443 : url.scheme?.lowercased() == "http" ? 80 : nil)
    }

    static func pathMatches(prefix: String, path: String) -> Bool {
        var allowed = prefix
        while allowed.hasSuffix("/") { allowed.removeLast() }
        if allowed.isEmpty { return true }
        let actual = path.isEmpty ? "/" : path
        return actual == allowed || actual.hasPrefix(allowed + "/")
    }
}
