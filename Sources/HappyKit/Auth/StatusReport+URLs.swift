import FoundationEssentials

/// A server or web app URL as `happy auth status` shows it: the configured value with any user name or password
/// replaced by `***`, and, when login would refuse it (`ServerURL.validated`), why. Status never presents a refused
/// URL as the one login would use.
public struct StatusURL: Sendable, Equatable {
    /// The value as configured, userinfo redacted (`https://***@host`); may still hold control characters, which the
    /// text and JSON outputs escape.
    public var shown: String
    public var source: ResolvedURL.Source
    /// Why login would refuse it, or nil when it is valid.
    public var problem: String?

    public var isValid: Bool { problem == nil }

    /// `which` is "server" or "webapp" (for naming the source in the reason).
    public init(_ resolved: ResolvedURL, which: String) {
        shown = Self.redacted(resolved.url)
        source = resolved.source
        do {
            _ = try ServerURL.validated(resolved.url, source: resolved.source.label(for: which))
            problem = nil
        } catch let error as HappyError {
            if case .usage(let why) = error { problem = why } else { problem = error.userMessage }
        } catch {
            problem = "is not a valid URL"
        }
    }

    /// `raw` with the userinfo of its authority (everything before the last `@` ahead of the path) replaced by `***`.
    public static func redacted(_ raw: String) -> String {
        guard let schemeEnd = raw.firstRange(of: "://") else { return raw }
        let rest = raw[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return raw }
        return String(raw[..<schemeEnd.upperBound]) + "***" + String(raw[at...])
    }

    /// The JSON of `status --json`: `url`, `source`, `valid`, and `problem` when invalid.
    var json: JSONValue {
        .object(
            [("url", .string(shown)), ("source", .string(source.rawValue)), ("valid", .bool(isValid))]
                + (problem.map { [("problem", JSONValue.string($0))] } ?? []))
    }
}
