import FoundationEssentials
import Glibc
import HappyKit

/// The terminal: stdout/stderr lines (flushed at once, so a pipe reader sees the approval URL while we poll),
/// TTY facts, colour, locale and width, line input and no-echo secret input.
enum LiveConsole {
    static func make(environment: [String: String]) -> Console {
        let stdinTTY = isatty(0) == 1
        let stdoutTTY = isatty(1) == 1
        let stderrTTY = isatty(2) == 1
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty || environment["TERM"] == "dumb"
        return Console(
            out: { line in write(line + "\n", to: 1) },
            err: { line in write(line + "\n", to: 2) },
            errRaw: { text in write(text, to: 2) },
            readLine: { Swift.readLine(strippingNewline: true) },
            readSecret: { prompt in try readSecret(prompt: prompt) },
            stdinIsTerminal: stdinTTY, stdoutIsTerminal: stdoutTTY, stderrIsTerminal: stderrTTY,
            colorEnabled: stdoutTTY && stderrTTY && !noColor,
            unicodeEnabled: isUTF8Locale(environment),
            width: stdoutTTY ? terminalWidth() : nil)
    }

    /// One write(2) per call, retried on EINTR and short writes: nothing buffered, nothing lost at exit. A failure on
    /// stdout is recorded (`StandardOutput`), so the command exits 74 instead of 0.
    static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                StandardOutput.recordFailure(fd: fd, errno: errno)
                return
            }
            offset += n
        }
        bytes.removeAll()
    }

    /// LC_ALL, else LC_CTYPE, else LANG. Unset everywhere counts as UTF-8 (most terminals today); an explicit
    /// non-UTF-8 locale such as `C` or `POSIX` gets ASCII output.
    static func isUTF8Locale(_ environment: [String: String]) -> Bool {
        for key in ["LC_ALL", "LC_CTYPE", "LANG"] {
            if let value = environment[key], !value.isEmpty {
                let v = Array(value.lowercased().utf8)
                return contains(v, "utf-8") || contains(v, "utf8")
            }
        }
        return true
    }

    /// Whether `needle` occurs in `bytes`. Byte windows rather than `String.contains`: the standard library's
    /// substring search instantiates generic metadata at run time (a scan of every protocol conformance in the
    /// binary), and status runs this at every start.
    private static func contains(_ bytes: [UInt8], _ needle: StaticString) -> Bool {
        let n = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        guard bytes.count >= n.count else { return false }
        return (0...(bytes.count - n.count)).contains { bytes[$0..<$0 + n.count].elementsEqual(n) }
    }

    static func terminalWidth() -> Int? {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Reads a line from the terminal with echo off, straight into secret memory.
    static func readSecret(prompt: String) throws -> SecretBytes {
        write(prompt, to: 2)
        var old = termios()
        let isTTY = tcgetattr(0, &old) == 0
        if isTTY {
            var quiet = old
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSAFLUSH, &quiet)
        }
        defer {
            if isTTY { tcsetattr(0, TCSAFLUSH, &old) }
            write("\n", to: 2)
        }
        var buffer = [UInt8](repeating: 0, count: 1024)
        var count = 0
        while count < buffer.count {
            var byte: UInt8 = 0
            let n = read(0, &byte, 1)
            if n <= 0 || byte == 0x0A || byte == 0x0D { break }
            buffer[count] = byte
            count += 1
        }
        let kept = count
        let secret = try SecretBytes(count: kept) { dst in
            buffer.withUnsafeBytes { dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<kept])) }
        }
        SecretBytes.wipe(&buffer)
        return secret
    }
}
