/// "Waiting for approval" progress. On a TTY (stderr) a spinner with elapsed seconds, redrawn in place;
/// otherwise one plain line at the start and plain lines for notable events, with no escapes.
public final class Progress: @unchecked Sendable {  // used from one task at a time
    private let console: Console
    private let label: String
    private var frame = 0
    private var drawn = false
    private var live: Bool { console.stderrIsTerminal }

    public init(console: Console, label: String) {
        self.console = console
        self.label = label
    }

    public func start(timeoutSeconds: Int) {
        if !live { console.err("\(label) (timeout \(timeoutSeconds) s)...") }
    }

    /// Redraws the spinner (TTY only).
    public func tick(elapsedSeconds: Int, note: String? = nil) {
        guard live else { return }
        let frames =
            console.unicodeEnabled ? ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"] : ["|", "/", "-", "\\"]
        frame = (frame + 1) % frames.count
        let extra = note.map { " · \($0)" } ?? ""
        let text = "\(frames[frame]) \(label)... \(elapsedSeconds)s\(extra)"
        console.errRaw("\r\u{1B}[2K" + text)
        drawn = true
    }

    /// A line that must stay visible (a retry notice), printed above the spinner.
    public func event(_ line: String) {
        clear()
        console.err(line)
    }

    /// Erases the spinner line.
    public func clear() {
        if drawn { console.errRaw("\r\u{1B}[2K") }
        drawn = false
    }
}
