/// Request and reply bodies of PROTOCOL §1–2, with the server's JSON names. Replies are read with `JSONParser`,
/// the one JSON reading rule of happy: duplicate keys resolve as JavaScript's `JSON.parse` does (the last wins),
/// because the server and the TypeScript CLI are JavaScript.
public protocol WireReply: Sendable {
    init(json: JSONValue) throws(WireShapeError)
}

/// A reply whose JSON does not have the expected shape (a missing field, or a field of the wrong type).
public struct WireShapeError: Error, Sendable {
    public let field: String
}

extension JSONValue {
    /// A required string field.
    func requiredString(_ key: String) throws(WireShapeError) -> String {
        guard let value = self[key]?.stringValue else { throw WireShapeError(field: key) }
        return value
    }

    /// An optional string field: absent or null is nil; any other type is a shape error.
    func optionalString(_ key: String) throws(WireShapeError) -> String? {
        switch self[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw WireShapeError(field: key)
        }
    }

    /// An optional boolean field: absent or null is nil; any other type is a shape error.
    func optionalBool(_ key: String) throws(WireShapeError) -> Bool? {
        switch self[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw WireShapeError(field: key)
        }
    }
}

/// `POST /v1/auth/request` body.
public struct AuthRequestBody: Sendable {
    public var publicKey: String
    public var supportsV2: Bool
    var json: JSONValue { .object([("publicKey", .string(publicKey)), ("supportsV2", .bool(supportsV2))]) }
}

/// `POST /v1/auth/request` reply: `{"state":"requested"}` or `{"state":"authorized","token":…,"response":…}`.
public struct AuthRequestReply: WireReply {
    public var state: String
    public var token: String?
    public var response: String?

    public init(state: String, token: String?, response: String?) {
        self.state = state
        self.token = token
        self.response = response
    }

    public init(json: JSONValue) throws(WireShapeError) {
        state = try json.requiredString("state")
        token = try json.optionalString("token")
        response = try json.optionalString("response")
    }
}

public struct AuthChallengeBody: Sendable {
    public var publicKey: String
    public var challenge: String
    public var signature: String
    var json: JSONValue {
        .object([
            ("publicKey", .string(publicKey)), ("challenge", .string(challenge)), ("signature", .string(signature)),
        ])
    }
}

public struct TokenReply: WireReply {
    public var success: Bool?
    public var token: String?

    public init(json: JSONValue) throws(WireShapeError) {
        success = try json.optionalBool("success")
        token = try json.optionalString("token")
    }
}

public struct RequestStatusReply: WireReply {
    public var status: String
    public var supportsV2: Bool?

    public init(json: JSONValue) throws(WireShapeError) {
        status = try json.requiredString("status")
        supportsV2 = try json.optionalBool("supportsV2")
    }
}

public struct AuthResponseBody: Sendable {
    public var publicKey: String
    public var response: String
    var json: JSONValue { .object([("publicKey", .string(publicKey)), ("response", .string(response))]) }
}

public struct SuccessReply: WireReply {
    public var success: Bool?

    public init(json: JSONValue) throws(WireShapeError) { success = try json.optionalBool("success") }
}
