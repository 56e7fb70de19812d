import Foundation
import Hummingbird

/// The account and machine endpoints of PROTOCOL §7 with happy-server's shapes (routes/accountRoutes.ts and
/// routes/machinesRoutes.ts): every one needs `Authorization: Bearer <token>` (401 otherwise, as for a revoked
/// token).
struct AccountRoutes: Sendable {
    let state: ServerState
    let machines: MachineRegistry
    /// The built-in account's login key: its profile has a name and a GitHub login; other accounts have neither.
    let namedIdentity: String

    func register(on router: Router<TestServerRequestContext>) {
        router.get("/v1/account/profile") { request, _ in try await profile(request) }
        router.get("/v1/machines/:id") { request, context in
            try await machine(request, id: context.parameters.get("id") ?? "")
        }
        router.delete("/v1/machines/:id") { request, context in
            try await deleteMachine(request, id: context.parameters.get("id") ?? "")
        }
    }

    /// `GET /v1/account/profile` → `{"id", "timestamp", "firstName", "lastName", "username", "avatar", "github",
    /// "connectedServices"}`.
    func profile(_ request: Request) async throws -> Response {
        let account = try await AuthRoutes.authenticate(request, state: state)
        let named = await state.accountId(forIdentity: namedIdentity) == account
        // A certificate account's identity is its name (happy-server fills the profile from it), so a client can say
        // who it was logged in as.
        let identity = await state.identity(ofAccount: account) ?? ""
        let certificateName: JSON = identity.hasPrefix("mtls:") ? .string(String(identity.dropFirst(5))) : .null
        return JSONReply.response([
            "id": .string("acct-\(account)"),
            "timestamp": .number((Date().timeIntervalSince1970 * 1000).rounded()),
            "firstName": named ? .string("Ada") : certificateName, "lastName": named ? .string("Lovelace") : .null,
            "username": named ? .string("ada") : .null, "avatar": .null,
            "github": named ? .object(["login": .string("ada-happy"), "id": .number(1815)]) : .null,
            "connectedServices": .array([]),
        ])
    }

    /// `GET /v1/machines/:id` → `{"machine": {…}}`, or 404 `{"error": "Machine not found"}`.
    func machine(_ request: Request, id: String) async throws -> Response {
        let account = try await AuthRoutes.authenticate(request, state: state)
        guard await machines.isRegistered(id, account: account) else {
            return JSONReply.error(.notFound, "Machine not found")
        }
        return JSONReply.response([
            "machine": [
                "id": .string(id), "accountId": .string("acct-\(account)"), "metadata": "", "metadataVersion": 1,
                "daemonState": nil, "daemonStateVersion": 0, "dataEncryptionKey": nil, "active": false,
            ]
        ])
    }

    /// `DELETE /v1/machines/:id` → `{"success": true}`; 404 `{"error": "Machine not found"}`; or, configured as an
    /// older server, the 404 of an unknown route (fastify's shape) or a 405.
    func deleteMachine(_ request: Request, id: String) async throws -> Response {
        switch await machines.deleteRoute {
        case .absent:
            return JSONReply.response(
                [
                    "message": .string("Route DELETE:/v1/machines/\(id) not found"), "error": "Not Found",
                    "statusCode": 404,
                ], status: .notFound)
        case .notAllowed:
            return JSONReply.error(.methodNotAllowed, "Method Not Allowed")
        case .present:
            let account = try await AuthRoutes.authenticate(request, state: state)
            guard await machines.remove(id, account: account) else {
                return JSONReply.error(.notFound, "Machine not found")
            }
            return JSONReply.response(["success": true])
        }
    }
}

/// Appends every request but the `/_test/…` controls to the log.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let log: RequestLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if !request.uri.path.hasPrefix("/_test/") {
            await log.append(.init(method: request.method.rawValue, path: request.uri.path))
        }
        return try await next(request, context)
    }
}
