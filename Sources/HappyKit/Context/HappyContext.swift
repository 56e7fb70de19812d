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
}
