import FoundationEssentials
import Glibc

/// A private HTML page that sends the browser on to a URL which must not appear in any process's argv (the
/// hand-off's start URL carries the loopback listener's secret path, and `/proc/<pid>/cmdline` is readable by every
/// local user). It lives in a fresh directory of mode 0700 (`mkdtemp`) as `login.html`, mode 0600, under
/// `$XDG_RUNTIME_DIR`, else `$TMPDIR`, else `/tmp`; the browser is started on its `file://` URL and `remove()` deletes
/// both once the login is over.
public final class BrowserRedirectPage: Sendable {
    /// The directory, or nil for the stand-in that fakes return (nothing on disk).
    let directory: String?

    /// The page's `file://` URL, for the browser's argv.
    public var fileURL: String { "file://" + (directory ?? "") + "/login.html" }
    public var path: String? { directory.map { $0 + "/login.html" } }

    /// No page: what a `BrowserOpener` that starts no process returns.
    static let none = BrowserRedirectPage(directory: nil)

    private init(directory: String?) { self.directory = directory }

    /// Writes the page. Throws when the directory or file cannot be made.
    convenience init(redirectingTo url: String, environment: [String: String]) throws {
        let candidates: [String] = [environment["XDG_RUNTIME_DIR"], environment["TMPDIR"]].compactMap { $0 } + ["/tmp"]
        let base = candidates.first { (dir: String) in dir.hasPrefix("/") && access(dir, W_OK | X_OK) == 0 } ?? "/tmp"
        var template =
            Array((base.hasSuffix("/") ? base : base + "/").utf8CString.dropLast())
            + Array(
                "happy-login-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {  // mode 0700
            throw HappyError.failed("cannot create a private directory in \(base) for the browser page")
        }
        let directory = String(cString: made)
        self.init(directory: directory)
        let fd = open(directory + "/login.html", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            remove()
            throw HappyError.failed("cannot write the browser page in \(directory)")
        }
        let bytes = Array(Self.html(redirectingTo: url).utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else {
            remove()
            throw HappyError.failed("cannot write the browser page in \(directory)")
        }
    }

    /// Deletes the page and its directory. Safe to call more than once.
    public func remove() {
        guard let directory else { return }
        unlink(directory + "/login.html")
        rmdir(directory)
    }

    /// A meta refresh and a `location.replace` (no history entry), plus a link for browsers that do neither.
    static func html(redirectingTo url: String) -> String {
        let attribute = htmlEscaped(url)
        return """
            <!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
            <meta http-equiv="refresh" content="0;url=\(attribute)"><title>Happy</title>
            <script>location.replace(\(javaScriptString(url)));</script></head>
            <body><p>Opening the sign-in page&hellip; <a href="\(attribute)">Continue</a></p></body></html>

            """
    }

    static func htmlEscaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A double-quoted JavaScript string literal in which nothing can end the string or the script element.
    static func javaScriptString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if scalar.isASCII, scalar.value >= 0x20, !"\"\\<>&'".unicodeScalars.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                let hex = String(scalar.value, radix: 16)
                out +=
                    scalar.value <= 0xFFFF ? "\\u" + String(repeating: "0", count: 4 - hex.count) + hex : "\\u{\(hex)}"
            }
        }
        return out + "\""
    }
}
