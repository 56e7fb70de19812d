/// The rule every bearer token meets before it is stored or sent (PROTOCOL §1, §3): 1 to 4096 visible ASCII
/// characters (0x21–0x7E). A token that breaks it is a bad response when it arrives (exit 76, nothing written) and a
/// damaged `access.key` when read, so it can never smuggle control characters into a header, a file or a terminal.
public enum BearerToken {
    public static let maximumLength = 4096

    public static func isAcceptable(_ token: String) -> Bool {
        let bytes = token.utf8
        return !bytes.isEmpty && bytes.count <= maximumLength && bytes.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// What is wrong with a token, for messages (never the token itself).
    public static func problem(_ token: String) -> String {
        if token.isEmpty { return "an empty token" }
        if token.utf8.count > maximumLength { return "a token longer than \(maximumLength) characters" }
        return "a token with characters other than visible ASCII"
    }
}
