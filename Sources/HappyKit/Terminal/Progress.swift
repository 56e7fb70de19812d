/// "Waiting for approval" progress. On a TTY (stderr) a spinner with elapsed seconds, redrawn in place;
/// otherwise one plain line at the start and plain lines for notable events, with no escapes. An optional hint is
/// shown once, as an event, when the wait reaches its time.
public final class Progress: @unchecked Sendable {  // used from one task at a time
    private let console: Console
    private let label: String
    private var frame = 0
    private var drawn = false
    private var live: Bool { console.stderrIsTerminal }
    private var hint: (afterSeconds: Int, text: String)?

    public init(console: Console, label: String, hint: (afterSeconds: Int, text: String)? = nil) {
        self.console = console
        self.label = label
        self.hint = hint
    }

    public func start(timeoutSeconds: Int) {
        if !live { console.err("\(label) (timeout \(timeoutSeconds) s)...") }
    }

    /// Shows the hint once its time has come (TTY or not), then redraws the spinner (TTY only).
    public func tick(elapsedSeconds: Int, note: String? = nil) {
        if let due = hint, elapsedSeconds >= due.afterSeconds {
            hint = nil
            event(due.text)
        }
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
