import HappyKit

extension TestServerConfiguration {
    /// Reads the Happier mTLS variables (`HAPPIER_FEATURE_AUTH_MTLS__*`, seed 000) and the test server's own
    /// `HAPPY_TEST_SERVER_*` variables. Throws on a value it cannot understand rather than guessing.
    public init(host: String, port: Int, environment: [String: String]) throws {
        var secret: SecretBytes?
        if let encoded = environment["HAPPY_TEST_SERVER_SECRET"], !encoded.isEmpty {
            guard var bytes = Base64.decode(encoded), bytes.count == 32 else {
                throw TestServerError("HAPPY_TEST_SERVER_SECRET must be the standard base64 of 32 bytes")
            }
            secret = try SecretBytes(consuming: &bytes)
        }
        var tls: TLSFiles?
        switch (environment["HAPPY_TEST_SERVER_TLS_CERT"], environment["HAPPY_TEST_SERVER_TLS_KEY"]) {
        case (let cert?, let key?) where !cert.isEmpty && !key.isEmpty:
            tls = TLSFiles(
                certificatePath: cert, privateKeyPath: key,
                clientCAPath: environment["HAPPY_TEST_SERVER_CLIENT_CA"].flatMap { $0.isEmpty ? nil : $0 })
        case (nil, nil), ("", ""):
            if environment["HAPPY_TEST_SERVER_CLIENT_CA"] != nil {
                throw TestServerError("HAPPY_TEST_SERVER_CLIENT_CA needs HAPPY_TEST_SERVER_TLS_CERT and _TLS_KEY")
            }
        default:
            throw TestServerError("set both HAPPY_TEST_SERVER_TLS_CERT and HAPPY_TEST_SERVER_TLS_KEY, or neither")
        }
        self.init(
            host: host, port: port, masterSecret: secret, mtls: try MTLSSettings(environment: environment),
            tls: tls)
    }
}

extension MTLSSettings {
    static let prefix = "HAPPIER_FEATURE_AUTH_MTLS__"

    /// Reads `HAPPIER_FEATURE_AUTH_MTLS__*` plus `HAPPY_TEST_SERVER_E2EE_IDENTITIES`,
    /// `HAPPY_TEST_SERVER_KNOWN_IDENTITIES`, `HAPPY_TEST_SERVER_E2EE_REQUIRED_IDENTITIES`,
    /// `HAPPY_TEST_SERVER_DISABLED_IDENTITIES` and `HAPPY_TEST_SERVER_DISABLED_AT_CLAIM_IDENTITIES` (CSV).
    public init(environment: [String: String]) throws {
        func value(_ name: String) -> String? {
            guard let raw = environment[Self.prefix + name]?.trimmingWhitespace(), !raw.isEmpty else { return nil }
            return raw
        }
        func flag(_ name: String) throws -> Bool {
            switch value(name)?.lowercased() {
            case nil, "0", "false", "no", "off": return false
            case "1", "true", "yes", "on": return true
            case let other?: throw TestServerError("\(Self.prefix)\(name) must be 0 or 1, not \(other)")
            }
        }
        func csv(_ text: String?) -> [String] {
            (text ?? "").split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        }
        self.init()
        isEnabled = try flag("ENABLED")
        autoProvision = try flag("AUTO_PROVISION")
        trustForwardedHeaders = try flag("TRUST_FORWARDED_HEADERS")
        if let raw = value("MODE") {
            guard let mode = Mode(rawValue: raw.lowercased()) else {
                throw TestServerError("\(Self.prefix)MODE must be forwarded or direct, not \(raw)")
            }
            self.mode = mode
        }
        if let raw = value("IDENTITY_SOURCE") {
            guard let source = IdentitySource(rawValue: raw.lowercased()) else {
                throw TestServerError(
                    "\(Self.prefix)IDENTITY_SOURCE must be san_email, san_upn, subject_cn or fingerprint")
            }
            identitySource = source
        }
        allowedEmailDomains = csv(value("ALLOWED_EMAIL_DOMAINS")).map { $0.lowercased() }
        allowedIssuers = IssuerAllowList(parsing: environment[Self.prefix + "ALLOWED_ISSUERS"] ?? "")
        if let name = value("FORWARDED_EMAIL_HEADER") { forwardedHeaders.email = name.lowercased() }
        if let name = value("FORWARDED_UPN_HEADER") { forwardedHeaders.upn = name.lowercased() }
        if let name = value("FORWARDED_SUBJECT_HEADER") { forwardedHeaders.subject = name.lowercased() }
        if let name = value("FORWARDED_FINGERPRINT_HEADER") { forwardedHeaders.fingerprint = name.lowercased() }
        if let name = value("FORWARDED_ISSUER_HEADER") { forwardedHeaders.issuer = name.lowercased() }
        // Happier's default: its own deep-link scheme plus the web app (HAPPIER_WEBAPP_URL).
        returnToAllowPrefixes =
            value("RETURN_TO_ALLOW_PREFIXES").map(csv)
            ?? ["happier://"] + [environment["HAPPIER_WEBAPP_URL"]].compactMap { $0 }.filter { !$0.isEmpty }
        if let raw = value("CLAIM_TTL_SECONDS") {
            guard let seconds = Int(raw), seconds > 0, seconds <= 86_400 else {
                throw TestServerError("\(Self.prefix)CLAIM_TTL_SECONDS must be a number of seconds, not \(raw)")
            }
            claimTTLSeconds = seconds
        }
        if let raw = environment["HAPPY_TEST_SERVER_OCSP"], !raw.isEmpty {
            guard let mode = OCSPFailureMode(rawValue: raw.lowercased()) else {
                throw TestServerError("HAPPY_TEST_SERVER_OCSP must be fail-open or fail-closed, not \(raw)")
            }
            ocspCheck = mode
        }
        e2eeIdentities = Set(csv(environment["HAPPY_TEST_SERVER_E2EE_IDENTITIES"]).map { $0.lowercased() })
        knownIdentities = Set(csv(environment["HAPPY_TEST_SERVER_KNOWN_IDENTITIES"]).map { $0.lowercased() })
        e2eeRequiredIdentities = Set(
            csv(environment["HAPPY_TEST_SERVER_E2EE_REQUIRED_IDENTITIES"]).map { $0.lowercased() })
        disabledIdentities = Set(csv(environment["HAPPY_TEST_SERVER_DISABLED_IDENTITIES"]).map { $0.lowercased() })
        disabledAtClaimIdentities = Set(
            csv(environment["HAPPY_TEST_SERVER_DISABLED_AT_CLAIM_IDENTITIES"]).map { $0.lowercased() })
    }
}
