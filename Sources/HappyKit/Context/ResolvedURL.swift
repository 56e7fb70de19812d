/// A server or web app URL and where it came from (PROTOCOL §3): the flag, the environment, settings.json (written
/// by the TypeScript CLI's self-host command `happy server`), or the default. Empty values count as absent.
public struct ResolvedURL: Sendable, Equatable {
    /// Where a URL came from; the raw value is what `status` prints.
    public enum Source: String, Sendable, Equatable, CaseIterable {
        case flag, environment, settings, `default`

        /// How messages name a value from this source (`which` is "server" or "webapp").
        public func label(for which: String) -> String {
            switch self {
            case .flag: "--server"
            case .environment: which == "server" ? "HAPPY_SERVER_URL" : "HAPPY_WEBAPP_URL"
            case .settings: which == "server" ? "serverUrl in settings.json" : "webappUrl in settings.json"
            case .default: "the default \(which) URL"
            }
        }
    }

    public static let defaultServer = "https://api.cluster-fluster.com"
    public static let defaultWebapp = "https://app.happy.engineering"

    /// Without one trailing slash, so paths can be appended.
    public var url: String
    public var source: Source

    public init(url: String, source: Source) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.source = source
    }

    /// `--server` > `HAPPY_SERVER_URL` > `settings.serverUrl` > the public server.
    public static func server(flag: String?, environment: [String: String], settings: Settings?) -> ResolvedURL {
        first(
            [
                (flag, .flag), (environment["HAPPY_SERVER_URL"], .environment),
                (settings?.json["serverUrl"]?.stringValue, .settings),
            ], else: defaultServer)
    }

    /// `HAPPY_WEBAPP_URL` > `settings.webappUrl` > the public web app.
    public static func webapp(environment: [String: String], settings: Settings?) -> ResolvedURL {
        first(
            [(environment["HAPPY_WEBAPP_URL"], .environment), (settings?.json["webappUrl"]?.stringValue, .settings)],
            else: defaultWebapp)
    }

    /// `value` unless it is nil or empty.
    static func present(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    private static func first(_ candidates: [(String?, Source)], else fallback: String) -> ResolvedURL {
        for (value, source) in candidates {
            if let value = present(value) { return ResolvedURL(url: value, source: source) }
        }
        return ResolvedURL(url: fallback, source: .default)
    }
}
