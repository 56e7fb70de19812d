import Foundation
import HappyKit
import Testing

/// What a recording console saw: stdout lines, stderr lines, raw stderr writes, and the unread stdin lines.
public final class Screen: Sendable {
    public struct State {
        public var out: [String] = []
        public var err: [String] = []
        public var errRaw: [String] = []
        /// Everything written to either stream, in order (lines end with "\n").
        public var transcript = ""
        public var stdin: [String]
        public var prompts = 0
    }

    public let state: Locked<State>

    public init(stdin: [String]) { state = Locked(State(stdin: stdin)) }

    public var out: [String] { state.current.out }
    public var err: [String] { state.current.err }
    public var errRaw: [String] { state.current.errRaw }
    public var transcript: String { state.current.transcript }
    public var unreadInput: [String] { state.current.stdin }
    /// stdout as one text, lines joined with "\n".
    public var stdout: String { out.joined(separator: "\n") }
    public var stderr: String { err.joined(separator: "\n") }
}

extension Console {
    /// A console that records every line. `terminal` makes stdin, stdout and stderr TTYs (and enables colour, as the
    /// live console does on a TTY without NO_COLOR). `stdin` lines are handed out by `readLine` and `readSecret`.
    public static func recording(
        stdin: [String] = [], terminal: Bool = false, unicode: Bool = true, width: Int? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> (console: Console, screen: Screen) {
        let screen = Screen(stdin: stdin)
        let state = screen.state
        @Sendable func nextInput() -> String? {
            state.withLock { s in
                s.prompts += 1
                return s.stdin.isEmpty ? nil : s.stdin.removeFirst()
            }
        }
        let console = Console(
            out: { line in
                state.withLock {
                    $0.out.append(line); $0.transcript += line + "\n"
                }
            },
            err: { line in
                state.withLock {
                    $0.err.append(line); $0.transcript += line + "\n"
                }
            },
            errRaw: { text in
                state.withLock {
                    $0.errRaw.append(text); $0.transcript += text
                }
            },
            readLine: { nextInput() },
            readSecret: { prompt in
                state.withLock {
                    $0.errRaw.append(prompt); $0.transcript += prompt
                }
                guard let line = nextInput() else {
                    Issue.record("readSecret called with no stdin left", sourceLocation: sourceLocation)
                    throw CancellationError()
                }
                var bytes = Array(line.utf8)
                return try SecretBytes(consuming: &bytes)
            },
            stdinIsTerminal: terminal, stdoutIsTerminal: terminal, stderrIsTerminal: terminal,
            colorEnabled: terminal, unicodeEnabled: unicode, width: width)
        return (console, screen)
    }

    /// A console for tests that must not print or read: any use records an issue.
    public static func failing(sourceLocation: SourceLocation) -> Console {
        @Sendable func fail(_ what: String) {
            Issue.record("unexpected console use: \(what)", sourceLocation: sourceLocation)
        }
        return Console(
            out: { fail("out(\($0))") }, err: { fail("err(\($0))") }, errRaw: { fail("errRaw(\($0))") },
            readLine: {
                fail("readLine"); return nil
            },
            readSecret: { _ in
                fail("readSecret"); throw CancellationError()
            },
            stdinIsTerminal: false, stdoutIsTerminal: false, stderrIsTerminal: false, colorEnabled: false,
            unicodeEnabled: true, width: nil)
    }
}
