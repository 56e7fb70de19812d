import FoundationEssentials

/// Terminal I/O, injected. stdout carries what scripts consume; stderr carries progress, prompts, hints, errors.
public struct Console: Sendable {
    /// One line to stdout (no newline in the argument).
    public var out: @Sendable (String) -> Void
    /// One line to stderr.
    public var err: @Sendable (String) -> Void
    /// Raw text to stderr, no newline added: the spinner's in-place line on a TTY.
    public var errRaw: @Sendable (String) -> Void
    public var readLine: @Sendable () async -> String?
    /// Reads a secret without echo (prompt on stderr).
    public var readSecret: @Sendable (String) throws -> SecretBytes
    public var stdinIsTerminal: Bool
    public var stdoutIsTerminal: Bool
    public var stderrIsTerminal: Bool
    /// Colour and other ANSI escapes: off under NO_COLOR or when the stream is not a terminal.
    public var colorEnabled: Bool
    /// Whether the terminal's locale is UTF-8 (else ASCII art and symbols).
    public var unicodeEnabled: Bool
    /// Columns of the terminal, when stdout is one.
    public var width: Int?

    public init(
        out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
        errRaw: @escaping @Sendable (String) -> Void, readLine: @escaping @Sendable () async -> String?,
        readSecret: @escaping @Sendable (String) throws -> SecretBytes,
        stdinIsTerminal: Bool, stdoutIsTerminal: Bool, stderrIsTerminal: Bool, colorEnabled: Bool,
        unicodeEnabled: Bool, width: Int?
    ) {
        self.out = out
        self.err = err
        self.errRaw = errRaw
        self.readLine = readLine
        self.readSecret = readSecret
        self.stdinIsTerminal = stdinIsTerminal
        self.stdoutIsTerminal = stdoutIsTerminal
        self.stderrIsTerminal = stderrIsTerminal
        self.colorEnabled = colorEnabled
        self.unicodeEnabled = unicodeEnabled
        self.width = width
    }

    /// Prompts need a person at both ends.
    public var canPrompt: Bool { stdinIsTerminal && stdoutIsTerminal }

    /// Shows an error line (already prefixed `happy:` by HappyError).
    public func error(_ line: String) { err(paint(line, .red)) }

    public enum Color: String, Sendable { case red = "31", green = "32", yellow = "33", dim = "2", bold = "1" }

    /// Wraps text in an ANSI colour only when colour is enabled.
    public func paint(_ text: String, _ color: Color) -> String {
        colorEnabled ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// ✓ / ⚠ / ✗ markers, with ASCII fallbacks for non-UTF-8 terminals.
    public var checkMark: String { paint(unicodeEnabled ? "✓" : "[ok]", .green) }
    public var crossMark: String { paint(unicodeEnabled ? "✗" : "[x]", .red) }
    public var warnMark: String { paint(unicodeEnabled ? "⚠" : "[!]", .yellow) }

    /// A warning line on stderr.
    public func warn(_ text: String) { err("\(warnMark) \(text)") }
}
