import HappyKit
import Hummingbird

/// `/_test/…` controls for the online check, deregistration and expired requests (PROTOCOL §7).
struct AccountControlRoutes: Sendable {
    let state: ServerState
    let machines: MachineRegistry
    let log: RequestLog
    /// The built-in account's identity (`ed25519:<login public key>`).
    let namedIdentity: String

    func register(on router: Router<TestServerRequestContext>) {
        router.post("/_test/token") { _, _ in await token() }
        router.post("/_test/revoke") { request, _ in try await revoke(request) }
        router.post("/_test/machines") { request, _ in try await registerMachine(request) }
        router.get("/_test/machines") { _, _ in await listMachines() }
        router.post("/_test/machine-delete-route") { request, _ in try await setDeleteRoute(request) }
        router.post("/_test/expire") { request, _ in try await expire(request) }
        router.get("/_test/log") { _, _ in await requestLog() }
    }

    /// A fresh token for the built-in account, as a login would give the terminal: `{"token"}`.
    func token() async -> Response {
        let account = await state.upsertAccount(identity: namedIdentity)
        return JSONReply.response(["token": .string(await state.mintToken(for: account))])
    }

    /// `{"token"}` → the token is forgotten, so every later use is a 401: `{"revoked": bool}`.
    func revoke(_ request: Request) async throws -> Response {
        let token = try await JSONBody.read(request).string("token")
        return JSONReply.response(["revoked": .bool(await state.revoke(token: token))])
    }

    /// `{"id", "token"}` registers a machine on the token's account, as the daemon does on its first start.
    func registerMachine(_ request: Request) async throws -> Response {
        let body = try await JSONBody.read(request)
        guard let account = await state.account(forToken: try body.string("token")) else {
            throw ErrorReply(status: .unauthorized, message: "Unauthorized")
        }
        await machines.register(try body.string("id"), account: account)
        return JSONReply.response(["success": true])
    }

    /// `{"machines": [id, …]}`, every account's.
    func listMachines() async -> Response {
        JSONReply.response(["machines": .array(await machines.all().map { .string($0) })])
    }

    /// `{"mode": "present" | "404" | "405"}`: how `DELETE /v1/machines/:id` answers from now on.
    func setDeleteRoute(_ request: Request) async throws -> Response {
        let mode = try await JSONBody.read(request).string("mode")
        guard let route = MachineRegistry.DeleteRoute(rawValue: mode) else {
            throw ErrorReply.badRequest("mode must be present, 404 or 405")
        }
        await machines.setDeleteRoute(route)
        return JSONReply.response(["mode": .string(route.rawValue)])
    }

    /// `{"publicKey": b64 | b64url | happy://terminal?…}` (or `{}` for every pending request): the request expires,
    /// and each later poll of it answers 410 `{"error": "expired"}`, as Happier does. `{"expired": count}`.
    func expire(_ request: Request) async throws -> Response {
        let body = try await JSONBody.read(request)
        var key: String?
        if let given = try body.optionalString("publicKey") {
            guard let bytes = PhoneAccount.terminalPublicKey(from: given) else {
                throw ErrorReply.badRequest("publicKey is not a 32-byte key")
            }
            key = Base64.encode(bytes)
        }
        return JSONReply.response(["expired": .number(Double(await state.expire(publicKey: key)))])
    }

    /// `{"requests": [{"method", "path"}, …]}`: every request but the controls, oldest first.
    func requestLog() async -> Response {
        let entries: [JSON] = await log.entries.map { ["method": .string($0.method), "path": .string($0.path)] }
        return JSONReply.response(["requests": .array(entries)])
    }
}
