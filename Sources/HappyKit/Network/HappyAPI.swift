import FoundationEssentials

/// The Happy server's auth endpoints (PROTOCOL §1–2): builds requests (JSON, `X-Happy-Client`) and decodes
/// replies. Status codes are returned to the flows, which know what each means to the user.
public struct HappyAPI: Sendable {
    public let server: ServerURL
    let transport: any HTTPTransport
    let requestTimeout: Duration

    public init(server: ServerURL, transport: any HTTPTransport, requestTimeout: Duration = .seconds(15)) {
        self.server = server
        self.transport = transport
        self.requestTimeout = requestTimeout
    }

    /// A reply: its status and, for 2xx, the decoded body.
    public struct Reply<T: Sendable>: Sendable {
        public var status: Int
        public var value: T?
        public var error: String?
        public var retryAfter: String?
        /// The start of a non-2xx body (proxies answer in HTML), for recognising well-known proxy errors.
        public var bodyPrefix: String = ""
    }

    func send<T: WireReply>(
        _ method: String, _ path: String, body: JSONValue?, token: String? = nil, as: T.Type,
        timeout: Duration? = nil
    ) async throws -> Reply<T> {
        var headers = Self.baseHeaders
        var bytes: [UInt8]?
        if let body {
            headers["Content-Type"] = "application/json"
            bytes = Array(body.compact().utf8)
        }
        if let token { headers["Authorization"] = "Bearer \(token)" }
        let response = try await transport.send(
            HTTPRequest(
                method: method, url: server.string + path, headers: headers, body: bytes,
                timeout: timeout.map { min($0, requestTimeout) } ?? requestTimeout))
        var reply = Reply<T>(
            status: response.status, value: nil, error: nil, retryAfter: response.header("retry-after"))
        let json = try? JSONParser.parse(response.body)
        if (200..<300).contains(response.status) {
            do {
                guard let json, case .object = json else { throw WireShapeError(field: "(the body)") }
                reply.value = try T(json: json)
            } catch {
                throw HappyError.badResponse(
                    "\(method) \(path) answered \(response.status) with a body that is not the expected JSON")
            }
        } else {
            reply.error = json?["error"]?.stringValue
            reply.bodyPrefix = String(decoding: response.body.prefix(512), as: UTF8.self)
        }
        return reply
    }

    /// Headers every request carries (PROTOCOL: `X-Happy-Client: cli/<version>`).
    static let baseHeaders = ["X-Happy-Client": HappyVersion.clientHeader, "Accept": "application/json"]

    /// `POST /v1/auth/request` — create or poll a terminal auth request. `timeout` bounds the whole exchange
    /// (shorter than the API's default when the login's own deadline is near).
    public func requestAuth(publicKey: [UInt8], timeout: Duration? = nil) async throws -> Reply<AuthRequestReply> {
        try await send(
            "POST", "/v1/auth/request",
            body: AuthRequestBody(publicKey: Base64.encode(publicKey), supportsV2: true).json,
            as: AuthRequestReply.self, timeout: timeout)
    }

    /// `POST /v1/auth` — the approving side logs in with a signed challenge.
    public func authenticate(signing key: SigningKeyPair) async throws -> Reply<TokenReply> {
        let challenge = SigningKeyPair.randomChallenge()
        let body = AuthChallengeBody(
            publicKey: Base64.encode(key.publicKey), challenge: Base64.encode(challenge),
            signature: Base64.encode(key.sign(challenge)))
        return try await send("POST", "/v1/auth", body: body.json, as: TokenReply.self)
    }

    /// `GET /v1/auth/request/status?publicKey=…`
    public func requestStatus(publicKey: [UInt8]) async throws -> Reply<RequestStatusReply> {
        // Standard base64 in a query: only `+`, `/` and `=` need escaping.
        let query = Base64.encode(publicKey).utf8.map { byte -> String in
            switch byte {
            case UInt8(ascii: "+"): "%2B"
            case UInt8(ascii: "/"): "%2F"
            case UInt8(ascii: "="): "%3D"
            default: String(UnicodeScalar(byte))
            }
        }.joined()
        return try await send(
            "GET", "/v1/auth/request/status?publicKey=\(query)", body: nil, as: RequestStatusReply.self)
    }

    /// `POST /v1/auth/response` — answer a terminal's request with a sealed bundle.
    public func respond(publicKey: [UInt8], bundle: [UInt8], token: String) async throws -> Reply<SuccessReply> {
        try await send(
            "POST", "/v1/auth/response",
            body: AuthResponseBody(publicKey: Base64.encode(publicKey), response: Base64.encode(bundle)).json,
            token: token, as: SuccessReply.self)
    }

    /// `POST /v1/auth/mtls` over a connection that presents the client certificate.
    public func mtlsLogin(timeout: Duration? = nil) async throws -> Reply<TokenReply> {
        try await send("POST", "/v1/auth/mtls", body: .object([]), as: TokenReply.self, timeout: timeout)
    }

    /// `POST /v1/auth/mtls/claim {"code"}` — trades the browser hand-off's single-use code for a token (PROTOCOL §2,
    /// §6). Sent without a client certificate. The code is never logged (it travels in the body only).
    public func mtlsClaim(code: String, timeout: Duration? = nil) async throws -> Reply<TokenReply> {
        try await send(
            "POST", "/v1/auth/mtls/claim", body: .object([("code", .string(code))]), as: TokenReply.self,
            timeout: timeout)
    }

    /// `GET /v1/features` as raw JSON (its shape varies between servers).
    public func features(timeout: Duration? = nil) async throws -> JSONValue? {
        let response = try await transport.send(
            HTTPRequest(
                method: "GET", url: server.string + "/v1/features",
                headers: Self.baseHeaders, timeout: timeout.map { min($0, requestTimeout) } ?? requestTimeout))
        guard response.status == 200 else { return nil }
        return try? JSONParser.parse(response.body)
    }
}

extension JSONValue {
    /// Whether a `/v1/features` answer advertises the mTLS login (`features.mtls.enabled`).
    public var mtlsEnabled: Bool { self["features"]?["mtls"]?["enabled"]?.boolValue == true }
}
