import AsyncHTTPClient
import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOSSL

/// The live transport: one AsyncHTTPClient per run (connections kept alive across polls), system roots plus
/// `--ca`, an optional client certificate, proxies from the environment, and a cap on response bodies.
public final class AsyncHTTPTransport: HTTPTransport, @unchecked Sendable {  // clients are immutable after init
    private let direct: HTTPClient
    private let proxies: ProxySettings
    private let maxBodyBytes: Int

    public init(options: TransportOptions, environment: [String: String]) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        // NIOSSL's client default still accepts TLS 1.0 and 1.1; Happy servers speak 1.2 or 1.3.
        tls.minimumTLSVersion = .tlsv12
        if let caFile = options.caFile {
            let pem: [UInt8]
            do { pem = try BoundedFile.read(caFile) } catch {
                throw HappyError.usage("--ca \(caFile): cannot read it: \(error.reason)")
            }
            do {
                let roots = try NIOSSLCertificate.fromPEMBytes(pem)
                guard !roots.isEmpty else { throw HappyError.usage("--ca \(caFile): no PEM certificates found in it") }
                tls.additionalTrustRoots = [.certificates(roots)]
            } catch let error as HappyError {
                throw error
            } catch {
                throw HappyError.usage("--ca \(caFile): cannot read PEM certificates from it (\(error))")
            }
        }
        if let identity = options.clientIdentity {
            do {
                tls.certificateChain = try identity.certificateChainDER.map {
                    .certificate(try NIOSSLCertificate(bytes: $0, format: .der))
                }
                if let signer = identity.tokenSigner {
                    // The key stays on the token: NIOSSL asks it for each handshake signature (PROTOCOL §6).
                    tls.privateKey = .privateKey(NIOSSLPrivateKey(customPrivateKey: TokenPrivateKey(signer: signer)))
                } else if let key = identity.privateKeyDER {
                    // NIOSSL takes an array: make the one short-lived copy and wipe it once the key is parsed.
                    var der = key.withUnsafeBytes { Array($0) }
                    defer { SecretBytes.wipe(&der) }
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: der, format: .der))
                }
            } catch {
                throw HappyError.refused("the TLS stack could not use this certificate and key (\(error))")
            }
        }
        proxies = ProxySettings(environment: options.useProxy ? environment : [:])
        maxBodyBytes = options.maxBodyBytes
        var config = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(30)))
        config.httpVersion = .http1Only
        // Fail a refused connection at once: the login flow owns retries (with backoff and a deadline).
        config.connectionPool.retryConnectionEstablishment = false
        direct = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        proxiedClients = [:]
        baseConfig = config
    }

    private let baseConfig: HTTPClient.Configuration
    private let lock = PThreadLock()
    private var proxiedClients: [String: HTTPClient]

    /// The client for a proxy (made once per proxy and reused), or the direct client.
    private func client(for url: String) throws -> HTTPClient {
        guard let proxy = try proxies.proxy(for: url) else { return direct }
        let key = "\(proxy.host):\(proxy.port)"
        lock.lock()
        defer { lock.unlock() }
        if let existing = proxiedClients[key] { return existing }
        var config = baseConfig
        if let credentials = proxy.credentials {
            let parts = credentials.split(separator: ":", maxSplits: 1).map(String.init)
            config.proxy = .server(
                host: proxy.host, port: proxy.port,
                authorization: .basic(username: parts[0], password: parts.count > 1 ? parts[1] : ""))
        } else {
            config.proxy = .server(host: proxy.host, port: proxy.port)
        }
        let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        proxiedClients[key] = made
        return made
    }

    /// Sends `request`; `request.timeout` bounds the whole transfer — connecting, the TLS handshake, the head and
    /// every byte of the body — so a server that trickles bytes cannot hold a run past its deadline.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let client = try client(for: request.url)
        let server = Self.origin(of: request.url)
        let secrets = Array(request.headers.values)
        do {
            return try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
                group.addTask { try await self.transfer(request, with: client) }
                group.addTask {
                    try await Task.sleep(for: request.timeout)
                    throw TransferDeadline()
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw CancellationError() }
                return first
            }
        } catch let error as HappyError {
            throw error
        } catch is TransferDeadline {
            throw HappyError.serverUnreachable(
                server: server, reason: "no complete answer within \(Self.seconds(request.timeout)) s")
        } catch is NIOTooManyBytesError {
            throw HappyError.badResponse("the server's answer is larger than \(maxBodyBytes / 1024) KiB")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw TransportErrorMapping.map(error, server: server, hiding: secrets)
        }
    }

    private struct TransferDeadline: Error {}

    /// One request and its whole body, capped at `maxBodyBytes` (a larger Content-Length is refused before reading).
    private func transfer(_ request: HTTPRequest, with client: HTTPClient) async throws -> HTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        // The task group above enforces the deadline; this one only keeps AsyncHTTPClient's own timer in step.
        let response = try await client.execute(outgoing, timeout: Self.timeAmount(request.timeout))
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > maxBodyBytes {
            throw HappyError.badResponse(
                "the server sent \(length) bytes; more than the \(maxBodyBytes / 1024) KiB allowed")
        }
        let body = try await response.body.collect(upTo: maxBodyBytes)
        var headers: [String: String] = [:]
        for (name, value) in response.headers { headers[name.lowercased()] = value }
        return HTTPResponse(status: Int(response.status.code), headers: headers, body: Array(buffer: body))
    }

    static func timeAmount(_ d: Duration) -> TimeAmount {
        let (seconds, atto) = d.components
        let clamped = max(0, min(seconds, 1_000_000))
        return .nanoseconds(clamped * 1_000_000_000 + atto / 1_000_000_000)
    }

    static func seconds(_ d: Duration) -> String {
        let (seconds, atto) = d.components
        let tenths = atto / 100_000_000_000_000_000
        return tenths == 0 ? "\(seconds)" : "\(seconds).\(tenths)"
    }

    public func shutdown() async {
        try? await direct.shutdown()
        let others = lock.withLock { Array(proxiedClients.values) }
        for c in others { try? await c.shutdown() }
    }

    static func origin(of url: String) -> String {
        guard let c = URLComponents(string: url), let host = c.host else { return url }
        return "\(c.scheme ?? "https")://\(host)\(c.port.map { ":\($0)" } ?? "")"
    }
}

/// A private key on a device (PKCS#11 token or TPM), as NIOSSL's custom key: each handshake signature is delegated to
/// the device's `DeviceKeySigner` (the two TLS stacks never share a file or an object; only bytes cross).
struct TokenPrivateKey: NIOSSLCustomPrivateKey, Hashable {
    let signer: any DeviceKeySigner

    static let mapping: [(SignatureAlgorithm, TokenSignatureScheme)] = [
        (.ecdsaSecp256R1Sha256, .ecdsaSHA256), (.ecdsaSecp384R1Sha384, .ecdsaSHA384),
        (.ecdsaSecp521R1Sha512, .ecdsaSHA512),
        (.rsaPssRsaeSha256, .rsaPSSSHA256), (.rsaPssRsaeSha384, .rsaPSSSHA384), (.rsaPssRsaeSha512, .rsaPSSSHA512),
        (.rsaPkcs1Sha256, .rsaPKCS1SHA256), (.rsaPkcs1Sha384, .rsaPKCS1SHA384), (.rsaPkcs1Sha512, .rsaPKCS1SHA512),
    ]

    var signatureAlgorithms: [SignatureAlgorithm] {
        signer.schemes.compactMap { scheme in Self.mapping.first { $0.1 == scheme }?.0 }
    }

    func sign(channel: any Channel, algorithm: SignatureAlgorithm, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        guard let scheme = Self.mapping.first(where: { $0.0 == algorithm })?.1, signer.schemes.contains(scheme) else {
            return channel.eventLoop.makeFailedFuture(
                HappyError.refused("the server asked for a signature the token's key cannot make"))
        }
        do {
            let signature = try signer.sign(scheme, data: Array(buffer: data))
            return channel.eventLoop.makeSucceededFuture(ByteBuffer(bytes: signature))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    func decrypt(channel: any Channel, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        channel.eventLoop.makeFailedFuture(HappyError.refused("RSA key exchange is not supported with a token key"))
    }

    static func == (a: TokenPrivateKey, b: TokenPrivateKey) -> Bool { a.signer === b.signer }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(signer)) }
}
