extension ServerURL {
    /// The `host[:port]` of a server URL, for naming the server in progress lines ("Waiting for approval from
    /// happy.example.com"); the scheme and any path are left out. Escaped for the terminal: the value may come from
    /// settings.json.
    public static func hostAndPort(of url: String) -> String {
        var rest = Substring(url)
        if let range = rest.firstRange(of: "://") { rest = rest[range.upperBound...] }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let withoutUser = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? authority
        return TerminalText.escape(withoutUser.isEmpty ? Substring(url) : withoutUser)
    }
}
