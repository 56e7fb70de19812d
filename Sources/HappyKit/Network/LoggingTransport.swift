import FoundationEssentials

/// `--debug` / `HAPPY_DEBUG=1`: logs each request to stderr — method, path, status, time — and nothing else.
/// Headers and bodies (tokens, bundles, keys) are never logged; query values that carry keys are redacted.
public struct LoggingTransport: HTTPTransport {
    let base: any HTTPTransport
    let log: @Sendable (String) -> Void
    let elapsed: @Sendable () -> Duration

    public init(
        base: any HTTPTransport, log: @escaping @Sendable (String) -> Void, elapsed: @escaping @Sendable () -> Duration
    ) {
        self.base = base
        self.log = log
        self.elapsed = elapsed
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let start = elapsed()
        let path = Self.redactedPath(request.pathForLog)
        do {
            let response = try await base.send(request)
            log(
                "debug: \(request.method) \(path) -> \(response.status) (\(Self.ms(elapsed() - start)) ms, "
                    + "\(response.body.count) bytes)")
            return response
        } catch {
            let what = (error as? HappyError).map { Self.reason($0) } ?? String(describing: type(of: error))
            log("debug: \(request.method) \(path) -> failed: \(what) (\(Self.ms(elapsed() - start)) ms)")
            throw error
        }
    }

    public func shutdown() async { await base.shutdown() }

    static func ms(_ d: Duration) -> Int {
        Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Query values are replaced by their length: a public key in a query is not secret, but logs stay uniform.
    static func redactedPath(_ path: String) -> String {
        guard let q = path.firstIndex(of: "?") else { return path }
        let query = path[path.index(after: q)...].split(separator: "&").map { item -> String in
            let kv = item.split(separator: "=", maxSplits: 1)
            return kv.count == 2 ? "\(kv[0])=<\(kv[1].count) chars>" : String(item)
        }
        return path[..<q] + "?" + query.joined(separator: "&")
    }

    static func reason(_ error: HappyError) -> String {
        switch error {
        case .serverUnreachable(_, let r), .untrustedServer(_, let r): r
        case .badResponse(let r), .refused(let r), .usage(let r), .failed(let r), .internalFailure(let r): r
        case .approvalTimedOut: "timed out"
        case .requestExpired: "the request expired"
        case .fileProblem(_, let r): r
        }
    }
}
