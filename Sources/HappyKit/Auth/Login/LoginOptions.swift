/// How the owner approves this terminal: the Happy app (QR code), the web app, or a certificate held by the browser
/// (the mTLS browser hand-off, PROTOCOL §6). `--cert` is not a method the owner approves with; it is a login of its
/// own (`LoginOptions.certificate`).
public enum LoginMethod: String, Sendable, CaseIterable {
    case mobile, web, certificate
}

/// What `--cert` names (PROTOCOL §2, §6), parsed once where the command line is read: a certificate file (PEM or
/// PKCS#12, with an optional separate PEM key) or the token objects a `pkcs11:` URI selects.
public enum CertificateSource: Sendable, Equatable {
    case file(certificate: String, key: String?)
    /// `module` is `--pkcs11-module`; nil means `HAPPY_PKCS11_MODULE`, else p11-kit's proxy.
    case token(PKCS11URI, module: String?)
}

/// Everything `happy auth login` was asked to do, typed (one options type for every method).
public struct LoginOptions: Sendable {
    /// The longest `--timeout` (a week); larger values are a usage error, never an overflow.
    public static let maximumTimeoutSeconds = 604_800

    public var server: ServerURL
    /// Extra CA roots for the server (`--ca`, `HAPPY_CA_FILE`).
    public var caFile: String?
    /// Nil: ask when stdin and stdout are terminals, else mobile (PROTOCOL §4). Not used with `certificate`.
    public var method: LoginMethod?
    /// `--cert`: a certificate login instead of an approval.
    public var certificate: CertificateSource?
    /// `--cert-password-file`: the key's or PKCS#12 password, or the token's PIN.
    public var passwordFile: String?
    /// The OCSP preflight of a certificate login (PROTOCOL §6).
    public var revocationCheck = RevocationCheck.soft
    public var force = false
    public var openBrowser = true
    /// The whole login, first request to last (`--timeout`).
    public var timeout = Duration.seconds(300)
    public var qrInverted = false
    /// Poll interval of the device login (the reference polls once a second).
    public var pollInterval = Duration.seconds(1)

    /// The defaults for `server`, changed by `configure` (`LoginOptions(server: url) { $0.force = true }`).
    public init(server: ServerURL, _ configure: (inout LoginOptions) -> Void = { _ in }) {
        self.server = server
        configure(&self)
    }
}
