/// The one source of truth for the version: `happy --version` and `X-Happy-Client: cli/<version>`.
public enum HappyVersion {
    public static let current = "0.1.0"
    public static var clientHeader: String { "cli/\(current)" }
}
