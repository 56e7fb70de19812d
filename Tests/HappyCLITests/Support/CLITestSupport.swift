import Foundation
import HappyKit
import Testing

// Test targets cannot share files, so this is a small copy of HappyKitTests/Support: enough to run commands.

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {  // every access goes through `lock`
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
    var current: Value { withLock { $0 } }
}

/// Lines a command printed.
final class Screen: Sendable {
    let lines = Locked((out: [String](), err: [String]()))
    var out: [String] { lines.current.out }
    var err: [String] { lines.current.err }
}

extension Console {
    /// A non-terminal console that records stdout and stderr lines and has no input.
    static func recording() -> (Console, Screen) {
        let screen = Screen()
        let console = Console(
            out: { line in screen.lines.withLock { $0.out.append(line) } },
            err: { line in screen.lines.withLock { $0.err.append(line) } },
            errRaw: { text in screen.lines.withLock { $0.err.append(text) } },
            readLine: { nil },
            readSecret: { _ in throw CancellationError() },
            stdinIsTerminal: false, stdoutIsTerminal: false, stderrIsTerminal: false, colorEnabled: false,
            unicodeEnabled: true, width: nil)
        return (console, screen)
    }
}

extension HappyContext {
    /// A context whose network, processes, browser and sleeping fail the test when used; the clock is fixed.
    static func cliTest(
        home: String, console: Console, environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> HappyContext {
        @Sendable func unexpected(_ what: String) {
            Issue.record("unexpected use of \(what)", sourceLocation: sourceLocation)
        }
        return HappyContext(
            console: console,
            makeTransport: { _ in
                unexpected("makeTransport"); throw CancellationError()
            },
            timing: Timing(
                now: { Date(timeIntervalSince1970: 1_767_225_600) }, elapsed: { .zero },
                sleep: { _ in
                    unexpected("sleep"); throw CancellationError()
                }),
            environment: environment, home: HappyHome(path: home), browser: NoBrowser(sourceLocation: sourceLocation),
            hostName: "test-host", random: { 0.5 },
            processes: ProcessControl(
                isAlive: { _ in
                    unexpected("isAlive"); return false
                },
                signal: { _, _ in
                    unexpected("signal"); return false
                },
                proveDaemon: { _, _ in
                    unexpected("proveDaemon"); return .unproven("unexpected")
                }))
    }
}

struct NoBrowser: BrowserOpener {
    let sourceLocation: SourceLocation
    func open(_ url: String) -> Bool {
        Issue.record("unexpected browser.open(\(url))", sourceLocation: sourceLocation)
        return false
    }
}

/// A fresh temporary directory, removed when the suite instance (one per test) is released.
final class TemporaryDirectory: Sendable {
    let path: String
    init() {
        var template = Array((NSTemporaryDirectory() + "/happy-cli-tests-XXXXXX").utf8CString)
        precondition(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) } != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
