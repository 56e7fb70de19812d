import Foundation
import HappyKit
import Testing

/// The approving side, as the stub server's answers: reads the terminal's public key from the request body and
/// seals a plaintext for it, the way the Happy app does (PROTOCOL §1, "The approving side").
public enum Phone {
    public static let legacySecret = counting(from: 0xA0, count: 32)
    public static let contentPublicKey = counting(from: 0xC0, count: 32)

    /// The public key of a `POST /v1/auth/request` body, checking the rest of the request on the way.
    public static func terminalKey(of request: HTTPRequest) throws -> [UInt8] {
        let body = try JSONParser.parse(request.body ?? [])
        #expect(body["supportsV2"] == .bool(true))
        #expect(request.headers["X-Happy-Client"] == HappyVersion.clientHeader)
        #expect(request.headers["Content-Type"] == "application/json")
        let key = try #require(body["publicKey"]?.stringValue.flatMap(Base64.decode))
        #expect(key.count == 32)
        return key
    }

    public static let pending = HTTPResponse.json(200, #"{"state":"requested"}"#)

    /// `{"state":"authorized","token":…,"response":…}` with `plaintext` sealed for the requesting terminal.
    /// `token` nil leaves the key out; `response` overrides the bundle text.
    public static func approve(
        plaintext: [UInt8], token: String? = "tok.approved-789", response: String? = nil,
        sealFor otherKey: [UInt8]? = nil
    ) -> StubTransport.Responder {
        { request in
            let key = try otherKey ?? terminalKey(of: request)
            let bundle = try AuthBundle.seal(try secret(plaintext), for: key)
            var pairs: [(String, JSONValue)] = [("state", .string("authorized"))]
            if let token { pairs.append(("token", .string(token))) }
            pairs.append(("response", .string(response ?? Base64.encode(bundle))))
            return .json(200, JSONValue.object(pairs).compact())
        }
    }

    public static var legacyAnswer: [UInt8] { legacySecret }
    public static var dataKeyAnswer: [UInt8] { [0x00] + contentPublicKey }
}
