import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// A stand-in for the user's browser in the certificate hand-off: an HTTP client that trusts the test CA, presents a
/// client certificate from the test PKI (as a browser would from its certificate store) and follows redirects one
/// hop at a time, so a test can stop before the last hop or look at every answer.
struct TestBrowser {
    struct Hop {
        let url: String
        let status: Int
        let location: String?
        let body: String
    }

    let identity: String?

    /// GETs `url` and follows redirects (relative ones included) until an answer is not a redirect, or until the next
    /// hop would go to `stopBefore` (a prefix such as `http://127.0.0.1:<port>`). Returns every hop; when it stopped
    /// early, the last hop's `location` is the URL it did not visit.
    func visit(_ url: String, stopBefore: String? = nil, maxHops: Int = 6) async throws -> [Hop] {
        let client = try makeClient()
        var hops: [Hop] = []
        var next = url
        do {
            for _ in 0..<maxHops {
                let hop = try await get(next, client: client)
                hops.append(hop)
                guard (300..<400).contains(hop.status), let location = hop.location else { break }
                guard let resolved = URL(string: location, relativeTo: URL(string: next))?.absoluteString else { break }
                if let stopBefore, resolved.hasPrefix(stopBefore) {
                    hops[hops.count - 1] = Hop(url: hop.url, status: hop.status, location: resolved, body: hop.body)
                    break
                }
                next = resolved
            }
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
        return hops
    }

    /// One request with this browser (no certificate needed for plain http).
    func request(_ method: String, _ url: String, body: String? = nil) async throws -> (status: Int, body: String) {
        let client = try makeClient()
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .init(rawValue: method)
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await client.execute(request, timeout: .seconds(20))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            try await client.shutdown()
            return (Int(response.status.code), text)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func get(_ url: String, client: HTTPClient) async throws -> Hop {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response = try await client.execute(request, timeout: .seconds(20))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return Hop(
            url: url, status: Int(response.status.code), location: response.headers.first(name: "location"),
            body: text)
    }

    private func makeClient() throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(GeneratedPKI.path("ca.pem")))
        if let identity {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(GeneratedPKI.path("\(identity).pem")).map {
                .certificate($0)
            }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: GeneratedPKI.path("\(identity).key"), format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.timeout.connect = .seconds(10)
        configuration.connectionPool.idleTimeout = .milliseconds(100)
        // A closed listener must fail at once, not be retried until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
