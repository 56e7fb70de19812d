import Foundation
import HappyKit
import Testing

/// An `HTTPTransport` that answers queued replies matched by method and path (host and query ignored, unless the
/// stub's path has a query), records every request, fails the test on a request no stub matches, and reports
/// stubs left unused in `verifyConsumed()`. Stubs for the same method and path are used in the order given.
public final class StubTransport: HTTPTransport, Sendable {
    public typealias Responder = @Sendable (HTTPRequest) throws -> HTTPResponse

    public struct Unmatched: Error, CustomStringConvertible {
        public let method: String
        public let path: String
        public var description: String { "StubTransport: no stub for \(method) \(path)" }
    }

    private struct Stub {
        let method: String
        let path: String
        var remaining: Int
        let respond: Responder
        let sourceLocation: SourceLocation
    }

    private struct State {
        var stubs: [Stub] = []
        var requests: [HTTPRequest] = []
        var shutdowns = 0
        var options: [TransportOptions] = []
    }

    private let state = Locked(State())
    private let sourceLocation: SourceLocation

    public init(sourceLocation: SourceLocation = #_sourceLocation) { self.sourceLocation = sourceLocation }

    /// Answers the next `times` matching requests by calling `respond` (which may throw, like a failing connection).
    public func on(
        _ method: String, _ path: String, times: Int = 1, sourceLocation: SourceLocation = #_sourceLocation,
        respond: @escaping Responder
    ) {
        state.withLock {
            $0.stubs.append(
                Stub(
                    method: method, path: path, remaining: times, respond: respond,
                    sourceLocation: sourceLocation))
        }
    }

    /// Answers the next `times` matching requests with `response`.
    public func on(
        _ method: String, _ path: String, times: Int = 1, sourceLocation: SourceLocation = #_sourceLocation,
        reply response: HTTPResponse
    ) {
        on(method, path, times: times, sourceLocation: sourceLocation) { _ in response }
    }

    /// Fails the next `times` matching requests with `error`.
    public func on(
        _ method: String, _ path: String, times: Int = 1, sourceLocation: SourceLocation = #_sourceLocation,
        fail error: any Error & Sendable
    ) {
        on(method, path, times: times, sourceLocation: sourceLocation) { _ in throw error }
    }

    public var requests: [HTTPRequest] { state.current.requests }
    public var shutdowns: Int { state.current.shutdowns }
    /// The options of each `makeTransport` call that handed out this stub (see `HappyContext.test`).
    public var madeWith: [TransportOptions] { state.current.options }

    public func recordMade(with options: TransportOptions) { state.withLock { $0.options.append(options) } }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let components = URLComponents(string: request.url)
        let path = components?.percentEncodedPath ?? request.url
        let pathAndQuery = request.pathForLog
        let responder: Responder? = state.withLock { s in
            s.requests.append(request)
            guard
                let i = s.stubs.firstIndex(where: { stub in
                    stub.remaining > 0 && stub.method == request.method
                        && (stub.path.contains("?") ? stub.path == pathAndQuery : stub.path == path)
                })
            else { return nil }
            s.stubs[i].remaining -= 1
            return s.stubs[i].respond
        }
        guard let responder else {
            Issue.record(
                "StubTransport: unexpected request \(request.method) \(pathAndQuery)", sourceLocation: sourceLocation)
            throw Unmatched(method: request.method, path: pathAndQuery)
        }
        return try responder(request)
    }

    public func shutdown() async { state.withLock { $0.shutdowns += 1 } }

    /// Records an issue for every stub that still has answers left.
    public func verifyConsumed() {
        for stub in state.current.stubs where stub.remaining > 0 {
            Issue.record(
                "StubTransport: \(stub.remaining) unused answer(s) for \(stub.method) \(stub.path)",
                sourceLocation: stub.sourceLocation)
        }
    }
}

extension HTTPResponse {
    /// A JSON reply with `text` as its body.
    public static func json(_ status: Int, _ text: String, headers: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a },
            body: Array(text.utf8))
    }
}
