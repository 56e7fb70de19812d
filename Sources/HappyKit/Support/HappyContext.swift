import FoundationEssentials
import Glibc

/// Everything outside HappyKit's own memory, in one value: terminal, clock, randomness, environment, files, HTTP.
/// Commands build the live one; tests build fakes. HappyKit never reaches for globals.
public struct HappyContext: Sendable {
    public var console: Console
    /// Makes the one HTTP transport of a run; called only by flows that talk to a server (never by `status`).
    public var makeTransport: @Sendable (TransportOptions) throws -> any HTTPTransport
    public var timing: Timing
    /// HAPPY_*, NO_COLOR, BROWSER, proxies; never read from ProcessInfo inside HappyKit.
    public var environment: [String: String]
    public var home: HappyHome
    public var browser: any BrowserOpener
    public var hostName: String
    /// A uniform random number in 0..<1, for backoff jitter.
    public var random: @Sendable () -> Double
    /// Signals and process control for stopping the daemon.
    public var processes: ProcessControl
    /// Holds off signal-driven exits while credentials are written.
    public var signals: SignalGuard

    public init(
        console: Console, makeTransport: @escaping @Sendable (TransportOptions) throws -> any HTTPTransport,
        timing: Timing, environment: [String: String], home: HappyHome, browser: any BrowserOpener,
        hostName: String, random: @escaping @Sendable () -> Double, processes: ProcessControl,
        signals: SignalGuard = .none
    ) {
        self.console = console
        self.makeTransport = makeTransport
        self.timing = timing
        self.environment = environment
        self.home = home
        self.browser = browser
        self.hostName = hostName
        self.random = random
        self.processes = processes
        self.signals = signals
    }

    /// Makes the run's transport, hands it to `body`, and always shuts it down (connections closed) before returning.
    public func withTransport<T: Sendable>(
        _ options: TransportOptions, _ body: (any HTTPTransport) async throws -> T
    ) async throws -> T {
        let transport = try makeTransport(options)
        do {
            let result = try await body(transport)
            await transport.shutdown()
            return result
        } catch {
            await transport.shutdown()
            throw error
        }
    }

    /// `HAPPY_DEBUG=1` (or `--debug`, which sets it).
    public var isDebug: Bool { ["1", "true", "yes"].contains(environment["HAPPY_DEBUG"]?.lowercased() ?? "") }

    /// The server base URL (PROTOCOL §3): `--server`, else `HAPPY_SERVER_URL`, else `serverUrl` in settings.json,
    /// else the public server (`ResolvedURL.server`); validated (`ServerURL`), so a bad value is a usage error
    /// before anything else happens.
    public func serverURL(override: String?) throws -> String {
        let resolved = server(override: override)
        return try ServerURL.validated(resolved.url, source: resolved.source.label(for: "server"))
    }

    /// The server and where it came from. settings.json is read only when neither the flag nor the environment
    /// names a server; a corrupt file names nothing here (it is reported where it is read for its own sake).
    public func server(override: String?) -> ResolvedURL {
        let needsSettings =
            ResolvedURL.present(override) == nil && ResolvedURL.present(environment["HAPPY_SERVER_URL"]) == nil
        return ResolvedURL.server(
            flag: override, environment: environment,
            settings: needsSettings ? try? Settings.load(from: home) : nil)
    }

    /// The web app base URL: `HAPPY_WEBAPP_URL`, else `webappUrl` in settings.json, else the public web app;
    /// validated like the server's.
    public func webappURL() throws -> String {
        let needsSettings = ResolvedURL.present(environment["HAPPY_WEBAPP_URL"]) == nil
        let resolved = ResolvedURL.webapp(
            environment: environment,
            settings: needsSettings ? try? Settings.load(from: home) : nil)
        return try ServerURL.validated(resolved.url, source: resolved.source.label(for: "webapp"))
    }

    /// Extra CA roots: `--ca`, else `HAPPY_CA_FILE`.
    public func caFile(override: String?) -> String? {
        override ?? environment["HAPPY_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// The clock, injected: wall time for expiry checks, monotonic time for deadlines, and sleeping.
public struct Timing: Sendable {
    public var now: @Sendable () -> Date
    public var elapsed: @Sendable () -> Duration
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        now: @escaping @Sendable () -> Date, elapsed: @escaping @Sendable () -> Duration,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) {
        self.now = now
        self.elapsed = elapsed
        self.sleep = sleep
    }

    /// The real clock.
    public static func live() -> Timing {
        let clock = ContinuousClock()
        let start = clock.now
        return Timing(now: { Date() }, elapsed: { clock.now - start }, sleep: { try await Task.sleep(for: $0) })
    }
}

/// Signals and process control for stopping the daemon, injected so tests never signal a real pid.
public struct ProcessControl: Sendable {
    /// True while the pid exists.
    public var isAlive: @Sendable (Int32) -> Bool
    /// Sends a signal; returns whether it was delivered.
    public var signal: @Sendable (Int32, Int32) -> Bool
    /// Whether the pid is shown to be the happy daemon of the home (PROTOCOL §3); only then is it signalled.
    public var proveDaemon: @Sendable (Int32, HappyHome) -> DaemonProof

    public init(
        isAlive: @escaping @Sendable (Int32) -> Bool, signal: @escaping @Sendable (Int32, Int32) -> Bool,
        proveDaemon: @escaping @Sendable (Int32, HappyHome) -> DaemonProof
    ) {
        self.isAlive = isAlive
        self.signal = signal
        self.proveDaemon = proveDaemon
    }

    public static func live() -> ProcessControl {
        let inspector = ProcDaemonInspector()
        return ProcessControl(
            isAlive: { pid in pid > 0 && (kill(pid, 0) == 0 || errno == EPERM) },
            signal: { pid, sig in pid > 1 && kill(pid, sig) == 0 },
            proveDaemon: { pid, home in inspector.prove(pid: pid, home: home) })
    }
}
