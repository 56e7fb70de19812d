import HappyKit
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// An in-memory fake of the Happy server (PROTOCOL §1 and §2) for tests and `happy-test-server serve`.
/// Nothing is persisted; every start is a fresh server.
public final class HappyTestServer: Sendable {
    public let configuration: TestServerConfiguration
    /// The built-in account that approves requests through `POST /_test/approve`.
    public let account: PhoneAccount
    let state = ServerState()
    let logger: Logger

    /// - Parameter logLevel: a swift-log level name ("trace" … "critical"); lines go to stderr, never stdout.
    public init(configuration: TestServerConfiguration = .init(), logLevel: String = "warning") throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw TestServerError("unknown log level \(logLevel)")
        }
        self.configuration = configuration
        account = try configuration.masterSecret.map(PhoneAccount.init(masterSecret:)) ?? .random()
        var logger = Logger(label: "happy-test-server") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        self.logger = logger
    }

    /// "http" or "https".
    public var scheme: String { configuration.tls == nil ? "http" : "https" }

    /// Serves until the task is cancelled, or until SIGTERM/SIGINT when `handlingSignals` (then it shuts down
    /// gracefully). Calls `onListening` once with the bound port (useful when the configured port is 0).
    public func run(handlingSignals: Bool = false, onListening: @escaping @Sendable (Int) -> Void) async throws {
        try await makeServiceGroup(handlingSignals: handlingSignals, onListening: onListening).run()
    }

    /// Starts serving in a background task and returns once the port is bound.
    public func start() async throws -> RunningTestServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = try makeServiceGroup(handlingSignals: false) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        for await port in ports { return RunningTestServer(server: self, port: port, group: group, task: task) }
        try await task.value  // the server stopped before it listened: surface why
        throw TestServerError("the server stopped before it was listening")
    }

    func makeServiceGroup(handlingSignals: Bool, onListening: @escaping @Sendable (Int) -> Void) throws
        -> ServiceGroup
    {
        let address = ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port))
        let onRunning: @Sendable (any Channel) async -> Void = { onListening($0.localAddress?.port ?? 0) }
        let app =
            if let tls = try makeTLSConfiguration() {
                Application(
                    router: makeRouter(), server: try .tls(.http1(), tlsConfiguration: tls),
                    configuration: address, onServerRunning: onRunning, logger: logger)
            } else {
                Application(router: makeRouter(), configuration: address, onServerRunning: onRunning, logger: logger)
            }
        return ServiceGroup(
            services: [app], gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [], logger: logger)
    }

    func makeRouter() -> Router<TestServerRequestContext> {
        let router = Router(context: TestServerRequestContext.self)
        router.add(middleware: ErrorReplyMiddleware())
        AuthRoutes(state: state).register(on: router)
        var mtls = MTLSRoutes(state: state, settings: configuration.mtls)
        if let mode = configuration.mtls.ocspCheck, let issuers = configuration.tls?.clientCAPath {
            mtls.ocsp = OCSPClientCheck(mode: mode, issuerBundlePath: issuers)
        }
        mtls.register(on: router)
        MTLSHandoffRoutes(state: state, settings: configuration.mtls, login: mtls).register(on: router)
        TestControlRoutes(state: state, account: account).register(on: router)
        AccountProfileRoutes(state: state).register(on: router)
        return router
    }

    func makeTLSConfiguration() throws -> TLSConfiguration? {
        guard let tls = configuration.tls else { return nil }
        var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)))
        if let clientCAPath = tls.clientCAPath {
            // Optional, so a connection without a certificate still reaches `/v1/auth/mtls` and gets its 401;
            // a presented certificate must chain to the CA bundle or the handshake fails.
            tlsConfiguration.certificateVerification = .optionalVerification
            tlsConfiguration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCAPath))
        }
        return tlsConfiguration
    }
}

/// A server started with `HappyTestServer.start()`.
public final class RunningTestServer: Sendable {
    public let server: HappyTestServer
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(server: HappyTestServer, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.server = server
        self.port = port
        self.group = group
        self.task = task
    }

    /// `http://127.0.0.1:<port>` (or https), without a trailing slash.
    public var baseURL: String { "\(server.scheme)://\(server.configuration.host):\(port)" }

    /// Shuts the server down gracefully (in-flight requests finish) and waits until it has stopped.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// A configuration or start-up problem of the test server.
public struct TestServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
