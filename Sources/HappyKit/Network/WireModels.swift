import Foundation

/// Request and reply bodies of PROTOCOL §1–2, with the server's JSON names.
public struct AuthRequestBody: Encodable, Sendable {
    public var publicKey: String
    public var supportsV2: Bool
}

/// `POST /v1/auth/request` reply: `{"state":"requested"}` or `{"state":"authorized","token":…,"response":…}`.
public struct AuthRequestReply: Decodable, Sendable {
    public var state: String
    public var token: String?
    public var response: String?
}

public struct AuthChallengeBody: Encodable, Sendable {
    public var publicKey: String
    public var challenge: String
    public var signature: String
}

public struct TokenReply: Decodable, Sendable {
    public var success: Bool?
    public var token: String?
}

public struct RequestStatusReply: Decodable, Sendable {
    public var status: String
    public var supportsV2: Bool?
}

public struct AuthResponseBody: Encodable, Sendable {
    public var publicKey: String
    public var response: String
}

public struct SuccessReply: Decodable, Sendable {
    public var success: Bool?
}

public struct ErrorReply: Decodable, Sendable {
    public var error: String?
}
