import FoundationEssentials

/// One HTTP request as plain values.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: [UInt8]?
    public var timeout: Duration

    public init(
        method: String, url: String, headers: [String: String] = [:], body: [UInt8]? = nil,
        timeout: Duration = .seconds(15)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// The path and query, for logs (never the headers or body).
    public var pathForLog: String {
        guard let c = URLComponents(string: url) else { return url }
        return c.percentEncodedPath + (c.percentEncodedQuery.map { "?" + $0 } ?? "")
    }
}

/// One HTTP response as plain values; bodies are capped by the transport.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]  // names lower-cased
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Sends requests. Connection-level failures surface as `HappyError.serverUnreachable` (retryable while polling);
/// TLS trust failures as `.untrustedServer`; a refused client certificate as `.refused`.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
    /// Releases connections; called once at the end of a run.
    func shutdown() async
}

/// How the one transport of a run is set up.
public struct TransportOptions: Sendable {
    /// Extra PEM roots to trust besides the system store.
    public var caFile: String?
    /// A client certificate to present (mTLS login).
    public var clientIdentity: ClientIdentity?
    /// The largest body accepted; larger is a protocol error.
    public var maxBodyBytes: Int
    /// False for local calls that must never leave the machine (the daemon's `/stop`).
    public var useProxy: Bool

    public init(
        caFile: String? = nil, clientIdentity: ClientIdentity? = nil, maxBodyBytes: Int = 1 << 20,
        useProxy: Bool = true
    ) {
        self.caFile = caFile
        self.clientIdentity = clientIdentity
        self.maxBodyBytes = maxBodyBytes
        self.useProxy = useProxy
    }
}
