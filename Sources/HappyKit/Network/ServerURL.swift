/// A server or web app base URL, checked once where it enters (`--server`, `HAPPY_SERVER_URL`, `HAPPY_WEBAPP_URL`,
/// settings.json): `http://` or `https://`, a host, a port in 1…65535 when one is given, no user name or password,
/// no query or fragment, no spaces or control characters. A bad one is a usage error (exit 64) that never echoes a
/// password; nothing downstream can trap on it, and nothing downstream validates it again.
public struct ServerURL: Sendable, Equatable, CustomStringConvertible {
    /// The URL without a trailing slash, so paths can be appended.
    public let string: String
    /// `host[:port]`, for lines that name the server ("Waiting for approval from …").
    public let hostAndPort: String

    /// Checks `raw`; a `.usage` error names `source` ("--server", "HAPPY_SERVER_URL", …).
    public init(validating raw: String, source: String) throws(HappyError) {
        func bad(_ why: String) -> HappyError { .usage("\(source) \(why)") }
        let lower = raw.lowercased()
        guard let schemeEnd = ["https://", "http://"].first(where: lower.hasPrefix)?.count else {
            throw bad("must be an http:// or https:// URL")
        }
        guard raw.unicodeScalars.allSatisfy({ $0.value > 0x20 && !TerminalText.isControl($0) }) else {
            throw bad("must not contain spaces or control characters")
        }
        let rest = raw.dropFirst(schemeEnd)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let path = rest.dropFirst(authority.count)
        guard !authority.contains("@") else { throw bad("must not contain a user name or password") }
        guard !path.contains("?"), !path.contains("#") else { throw bad("must not contain a query or fragment") }
        let host: Substring
        let port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw bad("has an unterminated IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { throw bad("has text after its IPv6 address") }
            port = after.isEmpty ? nil : after.dropFirst()
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            port = parts.count > 1 ? parts[1] : nil
        }
        guard !host.isEmpty else { throw bad("has no host") }
        if let port {
            guard !port.isEmpty, port.utf8.count <= 5, port.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let number = Int(port), (1...65535).contains(number)
            else { throw bad("has a port outside 1–65535 (\(TerminalText.excerpt(port, limit: 12)))") }
        }
        var result = raw
        while result.hasSuffix("/") { result.removeLast() }
        string = result
        hostAndPort = String(authority)
    }

    /// The URL as a string, or a `.usage` error naming `source`.
    public static func validated(_ raw: String, source: String) throws -> String {
        try ServerURL(validating: raw, source: source).string
    }

    public var description: String { string }
}
