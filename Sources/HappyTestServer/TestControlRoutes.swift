import HappyKit
import Hummingbird

/// `/_test/…`: controls that exist only on the test server, for tests to steer and observe it.
struct TestControlRoutes: Sendable {
    let state: ServerState
    let account: PhoneAccount

    func register(on router: Router<TestServerRequestContext>) {
        router.post("/_test/faults") { request, _ in try await setFaults(request) }
        router.get("/_test/faults") { _, _ in Self.reply(await state.currentFaults()) }
        router.get("/_test/requests") { request, _ in await requests(request) }
        router.get("/_test/account") { _, _ in
            JSONReply.response([
                "loginPublicKey": .string(Base64.encode(account.loginPublicKey)),
                "contentPublicKey": .string(Base64.encode(account.contentPublicKey)),
            ])
        }
        router.post("/_test/approve") { request, _ in try await approve(request) }
        router.get("/_test/mtls-identities") { _, _ in
            JSONReply.response(["identities": .array(await state.identities(prefix: "mtls:").map { .string($0) })])
        }
    }

    /// `{"failPolls": N, "failStatus": 503, "retryAfter": s|null, "dropPolls": M, "authorizedToken": t}` replaces the
    /// pending faults.
    func setFaults(_ request: Request) async throws -> Response {
        let body = try await JSONBody.read(request)
        var faults = ServerState.Faults()
        faults.failPolls = try body.optionalCount("failPolls") ?? 0
        faults.failStatus = try body.optionalCount("failStatus") ?? 503
        faults.retryAfter = try body.optionalCount("retryAfter")
        faults.dropPolls = try body.optionalCount("dropPolls") ?? 0
        faults.authorizedToken = try body.optionalString("authorizedToken")
        guard (100...599).contains(faults.failStatus) else {
            throw ErrorReply.badRequest("failStatus must be 100…599")
        }
        await state.setFaults(faults)
        return Self.reply(faults)
    }

    static func reply(_ faults: ServerState.Faults) -> Response {
        JSONReply.response([
            "failPolls": .number(Double(faults.failPolls)), "failStatus": .number(Double(faults.failStatus)),
            "retryAfter": faults.retryAfter.map { .number(Double($0)) } ?? .null,
            "dropPolls": .number(Double(faults.dropPolls)),
        ])
    }

    /// Pending terminal requests, oldest first; `?all=1` includes answered ones.
    func requests(_ request: Request) async -> Response {
        let includeAll = AuthRoutes.formDecodedQuery(request.uri.query ?? "")["all"].map { $0 == "1" || $0 == "true" }
        let items: [JSON] = await state.allRequests().filter { includeAll == true || !$0.isAuthorized }.map { item in
            let bytes = Base64.decode(item.publicKey) ?? []
            return [
                "publicKey": .string(item.publicKey), "publicKeyURL": .string(Base64.encodeURL(bytes)),
                "supportsV2": .bool(item.supportsV2), "status": .string(item.isAuthorized ? "authorized" : "pending"),
                "polls": .number(Double(item.polls)),
                "clientHeader": item.lastClientHeader.map { .string($0) } ?? .null,
            ]
        }
        return JSONReply.response(["requests": .array(items)])
    }

    /// The built-in account answers a request in-process, as a phone would:
    /// `{"publicKey": b64|b64url, "version": "v1"|"v2"|null, "payload": …|null, "tamper": bool|null}`.
    func approve(_ request: Request) async throws -> Response {
        let body = try await JSONBody.read(request)
        guard let terminalKey = PhoneAccount.terminalPublicKey(from: try body.string("publicKey")) else {
            return JSONReply.error(.unauthorized, "Invalid public key")
        }
        guard let found = await state.request(publicKey: Base64.encode(terminalKey)) else {
            return JSONReply.error(.notFound, "Request not found")
        }
        let version =
            try optionalEnum(body, "version", PhoneAccount.Version.self)
            ?? (found.supportsV2 ? .v2 : .v1)
        let payload = try optionalEnum(body, "payload", PhoneAccount.Payload.self) ?? .default(for: version)
        let bundle = try account.bundle(
            for: terminalKey, payload: payload, tamper: try body.optionalBool("tamper") ?? false)
        let accountID = await state.upsertAccount(identity: "ed25519:" + Base64.encode(account.loginPublicKey))
        _ = await state.answer(publicKey: found.publicKey, response: Base64.encode(bundle), account: accountID)
        return JSONReply.response(["success": true, "version": .string(version.rawValue)])
    }

    private func optionalEnum<T: RawRepresentable<String>>(_ body: JSONBody, _ key: String, _: T.Type) throws -> T? {
        switch body.fields[key] {
        case nil, .null: return nil
        case .string(let raw): if let value = T(rawValue: raw) { return value }
        default: break
        }
        throw ErrorReply.badRequest("\(key) has an unknown value")
    }
}
