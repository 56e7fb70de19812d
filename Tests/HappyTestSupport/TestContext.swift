import Foundation
import HappyKit
import Testing

extension HappyContext {
    /// A context for tests. Every field left unset records an issue when used (and throws where it can), so a
    /// forgotten setup never reaches the real home, network, clock, browser or processes.
    public static func test(
        home: HappyHome, console: Console? = nil, transport: (any HTTPTransport)? = nil, timing: TestTiming? = nil,
        environment: [String: String] = [:], browser: (any BrowserOpener)? = nil, processes: ProcessControl? = nil,
        random: Double? = nil, hostName: String = "test-host", sourceLocation: SourceLocation = #_sourceLocation
    ) -> HappyContext {
        HappyContext(
            console: console ?? .failing(sourceLocation: sourceLocation),
            makeTransport: { options in
                (transport as? StubTransport)?.recordMade(with: options)
                guard let transport else {
                    Issue.record("makeTransport called, but the test gave no transport", sourceLocation: sourceLocation)
                    throw UnexpectedUse(what: "makeTransport")
                }
                return transport
            },
            timing: timing?.timing ?? .failing(sourceLocation: sourceLocation),
            environment: environment, home: home,
            browser: browser ?? FailingBrowser(sourceLocation: sourceLocation),
            hostName: hostName,
            random: {
                guard let random else {
                    Issue.record("random called, but the test gave no value", sourceLocation: sourceLocation)
                    return 0.5
                }
                return random
            },
            processes: processes ?? .failing(sourceLocation: sourceLocation))
    }
}

/// Thrown by a fake that the test did not set up.
public struct UnexpectedUse: Error, CustomStringConvertible {
    public let what: String
    public var description: String { "unexpected use of \(what) in a test" }
}

extension Timing {
    public static func failing(sourceLocation: SourceLocation) -> Timing {
        Timing(
            now: {
                Issue.record("timing.now used, but the test gave no timing", sourceLocation: sourceLocation)
                return TestTiming.defaultNow
            },
            elapsed: {
                Issue.record("timing.elapsed used, but the test gave no timing", sourceLocation: sourceLocation)
                return .zero
            },
            sleep: { _ in
                Issue.record("timing.sleep used, but the test gave no timing", sourceLocation: sourceLocation)
                throw UnexpectedUse(what: "sleep")
            })
    }
}

extension ProcessControl {
    public static func failing(sourceLocation: SourceLocation) -> ProcessControl {
        ProcessControl(
            isAlive: {
                Issue.record("isAlive(\($0)) used, but the test gave no processes", sourceLocation: sourceLocation)
                return false
            },
            signal: { pid, sig in
                Issue.record(
                    "signal(\(pid), \(sig)) used, but the test gave no processes", sourceLocation: sourceLocation)
                return false
            },
            proveDaemon: { pid, _ in
                Issue.record("proveDaemon(\(pid)) used, but the test gave no processes", sourceLocation: sourceLocation)
                return .unproven("unexpected")
            })
    }
}

public struct FailingBrowser: BrowserOpener {
    public let sourceLocation: SourceLocation
    public func open(_ url: String) -> Bool {
        Issue.record("browser.open(\(url)) used, but the test gave no browser", sourceLocation: sourceLocation)
        return false
    }
}

/// A browser that records the URLs it was asked to open and answers `succeeds`.
public final class RecordingBrowser: BrowserOpener, Sendable {
    private let opened = Locked([String]())
    public let succeeds: Bool
    public init(succeeds: Bool = true) { self.succeeds = succeeds }
    public var urls: [String] { opened.current }
    public func open(_ url: String) -> Bool {
        opened.withLock { $0.append(url) }
        return succeeds
    }
}

/// One fake daemon process: alive until `stop()` (or a signal the test lets through), with every signal recorded.
/// Questions about any other pid fail the test.
public final class FakeDaemon: Sendable {
    public let pid: Int32
    public let commandLine: String?
    private let state: Locked<(alive: Bool, signals: [Int32])>
    private let sourceLocation: SourceLocation
    /// Whether a signal kills it.
    public let diesOnSignal: Bool

    public init(
        pid: Int32 = 4242, alive: Bool = true, commandLine: String? = "node happy daemon start-sync",
        diesOnSignal: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        self.pid = pid
        self.commandLine = commandLine
        self.diesOnSignal = diesOnSignal
        self.sourceLocation = sourceLocation
        state = Locked((alive, []))
    }

    public var isAlive: Bool { state.current.alive }
    public var signals: [Int32] { state.current.signals }
    public func stop() { state.withLock { $0.alive = false } }

    public var control: ProcessControl {
        ProcessControl(
            isAlive: { [self] pid in
                guard pid == self.pid else {
                    Issue.record("isAlive asked about pid \(pid), not the daemon's", sourceLocation: sourceLocation)
                    return false
                }
                return state.current.alive
            },
            signal: { [self] pid, sig in
                guard pid == self.pid else {
                    Issue.record("signal \(sig) sent to pid \(pid), not the daemon's", sourceLocation: sourceLocation)
                    return false
                }
                state.withLock { s in
                    s.signals.append(sig)
                    if diesOnSignal { s.alive = false }
                }
                return true
            },
            proveDaemon: { [self] pid, _ in
                // The live rule is proven on real processes (e2e); here a daemon's command line stands for proof.
                pid == self.pid && commandLine?.contains("daemon start-sync") == true
                    ? .proven("pid \(pid) is the fake daemon")
                    : .unproven("pid \(pid) is not a happy daemon (\(commandLine ?? "?"))")
            })
    }
}

extension ServerURL {
    /// A test server URL known to be valid.
    public static func test(_ text: String) -> ServerURL {
        do { return try ServerURL(validating: text, source: "test") } catch {
            fatalError("not a valid test URL: \(text)")
        }
    }
}
