import FoundationEssentials

/// Proxy choice from the environment, as curl makes it: `https_proxy`/`HTTPS_PROXY` for https URLs,
/// `http_proxy`/`HTTP_PROXY` for http URLs, `all_proxy`/`ALL_PROXY` as a fallback (lower case wins when both are
/// set), and `no_proxy`/`NO_PROXY` listing hosts, domain suffixes (`example.com` and `.example.com` both match
/// `a.example.com`), IP addresses, CIDR ranges, or `*`. Like curl, loopback is proxied unless `no_proxy` names it;
/// the daemon's local `/stop` call opts out of proxies altogether (`TransportOptions.useProxy`).
public struct ProxySettings: Sendable, Equatable {
    public struct Proxy: Sendable, Equatable {
        public var host: String
        public var port: Int
        /// `user:password` from the proxy URL, for Basic proxy authorization.
        public var credentials: String?
    }

    private let environment: [String: String]

    public init(environment: [String: String]) { self.environment = environment }

    private func value(_ name: String) -> String? {
        for key in [name.lowercased(), name.uppercased()] {
            if let v = environment[key]?.trimmingWhitespace(), !v.isEmpty { return v }
        }
        return nil
    }

    /// The proxy for `url`, or nil for a direct connection. Throws `.usage` for a proxy URL that cannot be parsed.
    public func proxy(for url: String) throws -> Proxy? {
        guard let target = URLComponents(string: url), let host = target.host?.lowercased(), !host.isEmpty else {
            return nil
        }
        let scheme = target.scheme?.lowercased() ?? "https"
        if bypasses(host) { return nil }
        guard let raw = value(scheme == "https" ? "https_proxy" : "http_proxy") ?? value("all_proxy") else {
            return nil
        }
        let withScheme = raw.contains("://") ? raw : "http://" + raw
        guard let p = URLComponents(string: withScheme), let proxyHost = p.host, !proxyHost.isEmpty else {
            throw HappyError.usage("cannot understand the proxy setting \(Self.redact(raw)); expected http://host:port")
        }
        // An https:// proxy would be spoken to in plain HTTP (credentials in clear): refused, not downgraded.
        guard p.scheme?.lowercased() == "http" else {
            throw HappyError.usage(
                "only http:// proxies are supported, not \(TerminalText.excerpt(p.scheme ?? "?", limit: 12)):// "
                    + "(\(TerminalText.excerpt(Self.redact(raw), limit: 80))); a TLS connection to the proxy is not "
                    + "available, and its credentials must not travel in clear")
        }
        // `user` and `password` are already percent-decoded; decoding again would turn "100%" into nil.
        let credentials = p.user.map { u in p.password.map { "\(u):\($0)" } ?? u }
        return Proxy(host: proxyHost, port: p.port ?? 1080, credentials: credentials)
    }

    /// Whether `host` matches an entry of `no_proxy`.
    func bypasses(_ host: String) -> Bool {
        guard let list = value("no_proxy") else { return false }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        for rawEntry in list.split(separator: ",") {
            var entry = rawEntry.trimmingWhitespace().lowercased()
            if entry.isEmpty { continue }
            if entry == "*" { return true }
            if entry.hasPrefix("[") { entry = String(entry.dropFirst().dropLast()) }
            if entry.contains("/"), Self.cidrContains(entry, bare) { return true }
            if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.hasPrefix("*.") { entry.removeFirst(2) }
            if let colon = entry.lastIndex(of: ":"), !entry.contains("::"), entry.filter({ $0 == ":" }).count == 1 {
                entry = String(entry[..<colon])  // host:port entries: curl matches on the host
            }
            if bare == entry || bare.hasSuffix("." + entry) { return true }
        }
        return false
    }

    /// IPv4 CIDR match (`10.0.0.0/8`).
    static func cidrContains(_ cidr: String, _ host: String) -> Bool {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits),
            let net = ipv4(String(parts[0])), let addr = ipv4(host)
        else { return false }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - UInt32(bits))
        return net & mask == addr & mask
    }

    static func ipv4(_ s: String) -> UInt32? {
        let octets = s.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        return octets.reduce(0) { $0 << 8 | $1 }
    }

    /// A proxy URL with any password hidden, for messages.
    static func redact(_ raw: String) -> String {
        guard let at = raw.lastIndex(of: "@"), let scheme = raw.firstRange(of: "://") else { return raw }
        return raw[..<scheme.upperBound] + "***@" + raw[raw.index(after: at)...]
    }
}
