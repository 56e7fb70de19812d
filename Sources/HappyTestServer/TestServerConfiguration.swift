import HappyKit

/// How a `HappyTestServer` listens and behaves. Only tests and `happy-test-server serve` build one.
public struct TestServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; read the bound one from `RunningTestServer.port`.
    public var port: Int
    /// The built-in account's 32-byte master secret (PROTOCOL §1, "The approving side"); random when nil.
    public var masterSecret: SecretBytes?
    /// Certificate login (PROTOCOL §2); disabled by default.
    public var mtls: MTLSSettings
    /// Serve HTTPS with these PEM files (direct mTLS mode needs them).
    public var tls: TLSFiles?

    public init(
        host: String = "127.0.0.1", port: Int = 0, masterSecret: SecretBytes? = nil,
        mtls: MTLSSettings = MTLSSettings(), tls: TLSFiles? = nil
    ) {
        self.host = host
        self.port = port
        self.masterSecret = masterSecret
        self.mtls = mtls
        self.tls = tls
    }
}

/// PEM files for the HTTPS listener.
public struct TLSFiles: Sendable, Equatable {
    /// Server certificate chain (leaf first).
    public var certificatePath: String
    public var privateKeyPath: String
    /// CA bundle that client certificates must chain to. When set the server asks for a client certificate
    /// (optional: a connection without one is accepted and `/v1/auth/mtls` answers 401).
    public var clientCAPath: String?

    public init(certificatePath: String, privateKeyPath: String, clientCAPath: String? = nil) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
    }
}

/// The Happier server's mTLS settings (PROTOCOL §2, seed 000), plus the test server's pre-provisioned identities.
public struct MTLSSettings: Sendable, Equatable {
    public enum Mode: String, Sendable { case forwarded, direct }
    public enum IdentitySource: String, Sendable {
        case sanEmail = "san_email"
        case sanUPN = "san_upn"
        case subjectCN = "subject_cn"
        case fingerprint
    }

    public var isEnabled: Bool
    public var mode: Mode
    public var autoProvision: Bool
    public var identitySource: IdentitySource
    /// Lower-cased domains; empty allows every domain.
    public var allowedEmailDomains: [String]
    /// Empty allows every issuer. See `IssuerAllowList`.
    public var allowedIssuers: IssuerAllowList
    public var trustForwardedHeaders: Bool
    public var forwardedHeaders: ForwardedHeaderNames
    /// Identities linked to end-to-end encrypted accounts: a certificate login answers 409 restore-required.
    public var e2eeIdentities: Set<String>
    /// Identities whose account requires end-to-end encryption: `POST /v1/auth/mtls` answers 403 e2ee-required (and
    /// the hand-off callback `error=e2ee-required`).
    public var e2eeRequiredIdentities: Set<String> = []
    /// Disabled accounts: `POST /v1/auth/mtls` answers 403 account-disabled, the hand-off `error=account-disabled`.
    public var disabledIdentities: Set<String> = []
    /// Accounts disabled between the hand-off and the claim: a code is issued, the claim answers 403
    /// account-disabled.
    public var disabledAtClaimIdentities: Set<String> = []
    /// Identities that already have a (keyless) account, for tests with auto-provisioning off.
    public var knownIdentities: Set<String>
    /// Where the browser hand-off may return to (`RETURN_TO_ALLOW_PREFIXES`): `scheme://` entries match a scheme,
    /// http(s) entries match by origin plus an optional path prefix (seed 000).
    public var returnToAllowPrefixes: [String]
    /// Lifetime of a hand-off claim code (`CLAIM_TTL_SECONDS`, default 60).
    public var claimTTLSeconds: Int
    /// Direct mode: check client certificates at their OCSP responder (`HAPPY_TEST_SERVER_OCSP`); nil: no check.
    public var ocspCheck: OCSPFailureMode?

    public init(
        isEnabled: Bool = false, mode: Mode = .forwarded, autoProvision: Bool = false,
        identitySource: IdentitySource = .sanEmail, allowedEmailDomains: [String] = [],
        allowedIssuers: IssuerAllowList = IssuerAllowList(), trustForwardedHeaders: Bool = false,
        forwardedHeaders: ForwardedHeaderNames = ForwardedHeaderNames(),
        e2eeIdentities: Set<String> = [], knownIdentities: Set<String> = [],
        returnToAllowPrefixes: [String] = ["happier://"], claimTTLSeconds: Int = 60, ocspCheck: OCSPFailureMode? = nil
    ) {
        self.ocspCheck = ocspCheck
        self.returnToAllowPrefixes = returnToAllowPrefixes
        self.claimTTLSeconds = claimTTLSeconds
        self.isEnabled = isEnabled
        self.mode = mode
        self.autoProvision = autoProvision
        self.identitySource = identitySource
        self.allowedEmailDomains = allowedEmailDomains.map { $0.lowercased() }
        self.allowedIssuers = allowedIssuers
        self.trustForwardedHeaders = trustForwardedHeaders
        self.forwardedHeaders = forwardedHeaders
        self.e2eeIdentities = Set(e2eeIdentities.map { $0.lowercased() })
        self.knownIdentities = Set(knownIdentities.map { $0.lowercased() })
    }
}

/// Header names a TLS-terminating proxy uses to forward the verified client identity (forwarded mode).
public struct ForwardedHeaderNames: Sendable, Equatable {
    public var email = "x-happier-client-cert-email"
    public var upn = "x-happier-client-cert-upn"
    public var subject = "x-happier-client-cert-subject"
    public var fingerprint = "x-happier-client-cert-sha256"
    public var issuer = "x-happier-client-cert-issuer"
    public init() {}
}
