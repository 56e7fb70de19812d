import Foundation
import HappyKit
import Hummingbird
import NIOCore

/// The device-keypair login endpoints of PROTOCOL §1, with happy-server's status codes and JSON shapes.
struct AuthRoutes: Sendable {
    let state: ServerState

    func register(on router: Router<TestServerRequestContext>) {
        router.post("/v1/auth/request") { request, context in try await poll(request, context: context) }
        router.get("/v1/auth/request/status") { request, _ in await status(request) }
        router.post("/v1/auth") { request, _ in try await login(request) }
        router.post("/v1/auth/response") { request, _ in try await respond(request) }
    }

    /// `POST /v1/auth/request`: create-or-poll. Injected faults come first, after the body has been read.
    func poll(_ request: Request, context: TestServerRequestContext) async throws -> Response {
        let body = try await JSONBody.read(request)
        switch await state.takePollFault() {
        case .fail(let status, let retryAfter):
            var headers: HTTPFields = [:]
            if let retryAfter { headers[.retryAfter] = String(retryAfter) }
            return JSONReply.error(HTTPResponse.Status(code: status), "Injected failure", headers: headers)
        case .drop:
            // Close the connection before any byte of a response: the client sees EOF mid-request.
            try? await context.channel.close()
            throw CancellationError()
        case nil:
            break
        }
        let publicKey = try Self.boxPublicKey(try body.string("publicKey"))
        if await state.isExpired(publicKey: publicKey) { return JSONReply.error(.gone, "expired") }  // Happier
        let supportsV2 = try body.optionalBool("supportsV2") ?? false
        let clientHeader = request.headers.first { $0.name.canonicalName == "x-happy-client" }?.value
        switch await state.poll(publicKey: publicKey, supportsV2: supportsV2, clientHeader: clientHeader) {
        case .requested:
            return JSONReply.response(["state": "requested"])
        case .authorized(let token, let response):
            let sent = await state.tokenToSend(token)
            return JSONReply.response(["state": "authorized", "token": .string(sent), "response": .string(response)])
        }
    }

    /// `GET /v1/auth/request/status?publicKey=<b64>`. The query is form-decoded, so a literal `+` is a space:
    /// clients must percent-encode the key, as they must for happy-server.
    func status(_ request: Request) async -> Response {
        let raw = Self.formDecodedQuery(request.uri.query ?? "")["publicKey"] ?? ""
        guard let publicKey = try? Self.boxPublicKey(raw), let found = await state.request(publicKey: publicKey) else {
            return JSONReply.response(["status": "not_found", "supportsV2": false])
        }
        return JSONReply.response([
            "status": .string(found.isAuthorized ? "authorized" : "pending"), "supportsV2": .bool(found.supportsV2),
        ])
    }

    /// `POST /v1/auth`: ed25519 challenge login; upserts the account by public key.
    func login(_ request: Request) async throws -> Response {
        let body = try await JSONBody.read(request)
        let publicKey = Base64.decode(try body.string("publicKey")) ?? []
        let challenge = Base64.decode(try body.string("challenge")) ?? []
        let signature = Base64.decode(try body.string("signature")) ?? []
        guard SigningKeyPair.verify(signature: signature, message: challenge, publicKey: publicKey) else {
            return JSONReply.error(.unauthorized, "Invalid signature")
        }
        let account = await state.upsertAccount(identity: "ed25519:" + Base64.encode(publicKey))
        let token = await state.mintToken(for: account)
        return JSONReply.response(["success": true, "token": .string(token)])
    }

    /// `POST /v1/auth/response` (bearer): the approving side's answer. The bundle is relayed untouched.
    func respond(_ request: Request) async throws -> Response {
        let account = try await Self.authenticate(request, state: state)
        let body = try await JSONBody.read(request)
        let publicKey = try Self.boxPublicKey(try body.string("publicKey"))
        let response = try body.string("response")
        guard await state.answer(publicKey: publicKey, response: response, account: account) else {
            return JSONReply.error(.notFound, "Request not found")
        }
        return JSONReply.response(["success": true])
    }

    // MARK: Helpers

    /// The account behind `Authorization: Bearer <token>`, or a 401.
    static func authenticate(_ request: Request, state: ServerState) async throws -> Int {
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix),
            let account = await state.account(forToken: String(header.dropFirst(prefix.count)))
        else { throw ErrorReply(status: .unauthorized, message: "Unauthorized") }
        return account
    }

    /// The canonical standard base64 of a 32-byte box public key, or 401 "Invalid public key".
    static func boxPublicKey(_ text: String) throws -> String {
        guard let bytes = Base64.decode(text), bytes.count == 32 else {
            throw ErrorReply(status: .unauthorized, message: "Invalid public key")
        }
        return Base64.encode(bytes)
    }

    /// `application/x-www-form-urlencoded` decoding, as fastify's query parser does (`+` is a space).
    static func formDecodedQuery(_ query: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let key = decode(parts[0])
            if result[key] == nil { result[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }
}
