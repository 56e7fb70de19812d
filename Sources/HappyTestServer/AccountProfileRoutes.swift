import Hummingbird

/// `GET /v1/account/profile` with a bearer token (PROTOCOL §7): the account's id, and for a certificate account its
/// identity as `firstName` (happy-server fills it from the account's profile), so a client can say who it is logged
/// in as. 401 without a known token.
struct AccountProfileRoutes: Sendable {
    let state: ServerState

    func register(on router: Router<TestServerRequestContext>) {
        router.get("/v1/account/profile") { request, _ in
            let account = try await AuthRoutes.authenticate(request, state: state)
            let identity = await state.identity(ofAccount: account) ?? ""
            let name = identity.hasPrefix("mtls:") ? String(identity.dropFirst("mtls:".count)) : ""
            return JSONReply.response(["id": .string(String(account)), "firstName": .string(name)])
        }
    }
}
