import AsyncHTTPClient
import Foundation
import HappyKit
import NIOCore
import NIOHTTP1
import NIOSSL

/// Approves a terminal auth request over real HTTP, as the phone app does (PROTOCOL §1, "The approving side"):
/// challenge login, status check, sealed answer. Used by `happy-test-server approve` and by tests.
public struct PhoneApprover: Sendable {
    public struct Options: Sendable {
        /// nil: v2 when the request said `supportsV2` (or the payload implies a version), else v1.
        public var version: PhoneAccount.Version?
        /// nil: the payload that belongs to the version.
        public var payload: PhoneAccount.Payload?
        /// Flip a ciphertext byte after sealing.
        public var tamper: Bool

        public init(version: PhoneAccount.Version? = nil, payload: PhoneAccount.Payload? = nil, tamper: Bool = false) {
            self.version = version
            self.payload = payload
            self.tamper = tamper
        }
    }

    public let serverURL: String
    public let account: PhoneAccount
    let client: HTTPClient

    public init(serverURL: String, account: PhoneAccount, client: HTTPClient) {
        self.serverURL = serverURL.hasSuffix("/") ? String(serverURL.dropLast()) : serverURL
        self.account = account
        self.client = client
    }

    /// Returns the version that was sent. Throws `TestServerError` with a readable reason on any refusal.
    public func approve(terminalPublicKey: [UInt8], options: Options = Options()) async throws -> PhoneAccount.Version {
        let token = try await login()
        let terminalKey = Base64.encode(terminalPublicKey)
        let query = terminalKey.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? terminalKey
        let status = try await send(.GET, "/v1/auth/request/status?publicKey=\(query)")
        guard status.code == 200, case .string(let state) = status.body?["status"] else {
            throw TestServerError("GET /v1/auth/request/status answered \(status.code)")
        }
        switch state {
        case "pending": break
        case "not_found": throw TestServerError("the server has no auth request for this key (status not_found)")
        case "authorized": throw TestServerError("this auth request is already authorized")
        default: throw TestServerError("unexpected request status \"\(state)\"")
        }
        let supportsV2 = status.body?["supportsV2"] == .bool(true)
        let version =
            options.version
            ?? {
                switch options.payload {
                case .legacy: .v1
                case .datakey: .v2
                default: supportsV2 ? .v2 : .v1
                }
            }()
        let payload = options.payload ?? .default(for: version)
        let bundle = try account.bundle(for: terminalPublicKey, payload: payload, tamper: options.tamper)
        let body: JSON = ["publicKey": .string(terminalKey), "response": .string(Base64.encode(bundle))]
        let answer = try await send(.POST, "/v1/auth/response", json: body, bearer: token)
        guard answer.code == 200, answer.body?["success"] == .bool(true) else {
            throw TestServerError("POST /v1/auth/response answered \(answer.code)\(Self.errorText(answer.body))")
        }
        return version
    }

    /// `POST /v1/auth` with a signed random challenge; returns the bearer token.
    func login() async throws -> String {
        let reply = try await send(.POST, "/v1/auth", json: account.signedChallenge())
        guard reply.code == 200, case .string(let token) = reply.body?["token"] else {
            throw TestServerError("POST /v1/auth answered \(reply.code)\(Self.errorText(reply.body))")
        }
        return token
    }

    static func errorText(_ body: JSON?) -> String {
        if case .string(let message) = body?["error"] { ": \(message)" } else { "" }
    }

    func send(_ method: HTTPMethod, _ path: String, json: JSON? = nil, bearer: String? = nil) async throws
        -> (code: Int, body: JSON?)
    {
        var request = HTTPClientRequest(url: serverURL + path)
        request.method = method
        request.headers.add(name: "X-Happy-Client", value: "happy-test-server/approve")
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(json)))
        }
        let response: HTTPClientResponse
        do { response = try await client.execute(request, timeout: .seconds(30)) } catch {
            throw TestServerError("cannot reach \(serverURL): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let body = try? JSONDecoder().decode(JSON.self, from: Data(bytes.readableBytesView))
        return (Int(response.status.code), body)
    }
}

extension PhoneApprover {
    /// Approves with a client of its own, trusting the extra PEM roots in `caFile` (for an HTTPS test server),
    /// and shuts the client down afterwards.
    public static func approve(
        serverURL: String, account: PhoneAccount, caFile: String? = nil, terminalPublicKey: [UInt8],
        options: Options = Options()
    ) async throws -> PhoneAccount.Version {
        var configuration = HTTPClient.Configuration()
        if let caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(caFile)]
            configuration.tlsConfiguration = tls
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let version = try await PhoneApprover(serverURL: serverURL, account: account, client: client)
                .approve(terminalPublicKey: terminalPublicKey, options: options)
            try await client.shutdown()
            return version
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
