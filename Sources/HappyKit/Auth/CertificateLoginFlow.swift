import FoundationEssentials

/// Options of `happy auth login --cert`.
public struct CertificateLoginOptions: Sendable {
    public var server: String
    public var certificatePath: String
    public var keyPath: String?
    public var passwordFile: String?
    public var caFile: String?
    public var force: Bool
    /// The OCSP preflight (PROTOCOL §6); soft by default.
    public var revocationCheck: RevocationCheck
    /// `--pkcs11-module`, for a `pkcs11:` certificate (else HAPPY_PKCS11_MODULE, else p11-kit's proxy).
    public var pkcs11Module: String?

    public init(
        server: String, certificatePath: String, keyPath: String?, passwordFile: String?, caFile: String?,
        force: Bool, revocationCheck: RevocationCheck = .soft, pkcs11Module: String? = nil
    ) {
        self.revocationCheck = revocationCheck
        self.pkcs11Module = pkcs11Module
        self.server = server
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.passwordFile = passwordFile
        self.caFile = caFile
        self.force = force
    }
}

/// `happy auth login --cert` (PROTOCOL §2): load the certificate and key with OpenSSL, check them locally, show the
/// identity the server will most likely use, then `POST /v1/auth/mtls` presenting the certificate. A success is a
/// keyless login: a token and certificate metadata, never keys. Local failures happen before any network traffic.
public struct CertificateLoginFlow: Sendable {
    public let options: CertificateLoginOptions
    let context: HappyContext

    public init(options: CertificateLoginOptions, context: HappyContext) {
        self.options = options
        self.context = context
    }

    public func run() async throws {
        let console = context.console
        if !options.force, try CredentialsStore(home: context.home).isAlreadyLoggedIn(context: context) { return }

        let identity = try loadIdentity()
        defer { identity.close() }  // a token session is closed and its module finalised on every path (§7)
        var warnings = identity.warnings
        warnings += try identity.checkValidity(now: context.timing.now())
        for warning in warnings { console.warn(warning) }

        let info = identity.info
        let likely = info.likelyIdentity
        func shown(_ text: String) -> String { TerminalText.escape(text) }  // certificate fields are outside text
        console.err("Certificate: \(shown(info.subjectDN))")
        console.err("  Issuer: \(shown(info.issuerDN))")
        console.err("  Fingerprint (SHA-256): \(info.fingerprint256)")
        console.err("  Valid until: \(Self.iso(info.notAfter))")
        console.err(
            "The server will most likely identify you as \(shown(likely.value)) "
                + "(\(Self.describe(source: likely.source))).")

        // The issuer from the PEM chain or PKCS#12 bag, else from the --ca bundle (tokens usually hold only the leaf).
        let leaf = identity.certificateChainDER[0]
        let issuer =
            identity.issuerCertificateDER
            ?? options.caFile.flatMap { OCSPQuery.issuer(of: leaf, among: OCSPQuery.certificates(inPEMFile: $0)) }
        try await RevocationPreflight(mode: options.revocationCheck, context: context, caFile: options.caFile)
            .check(leafDER: leaf, issuerDER: issuer)

        let store = CredentialsStore(home: context.home)
        let machineId = try await store.preparingLogin(context: context, force: options.force, server: options.server) {
            let token = try await context.withTransport(
                TransportOptions(caFile: options.caFile, clientIdentity: identity)
            ) { transport in
                let api = HappyAPI(server: options.server, transport: transport)
                return try await interpret(try await api.mtlsLogin(), api: api)
            }
            let metadata = CertificateLoginMetadata(
                identity: likely.value, source: likely.source, issuer: info.issuerDN, fingerprint: info.fingerprint256,
                notAfter: Self.iso(info.notAfter), tokenURI: identity.tokenURI)
            return try store.store(.keyless(token: token, metadata: metadata), context: context)
        }
        console.out(
            "\(console.checkMark) Logged in with the device certificate as \(shown(likely.value)) (keyless). "
                + "Machine ID: \(machineId)")
    }

    /// A certificate file (PEM/PKCS#12), or the token objects a `pkcs11:` URI selects (PROTOCOL §6).
    private func loadIdentity() throws -> ClientIdentity {
        let password = CertificatePassword(options: options, context: context)
        guard PKCS11URI.isURI(options.certificatePath) else {
            return try ClientIdentity.load(
                certificatePath: options.certificatePath, keyPath: options.keyPath, environment: context.environment,
                password: { try password.read() })
        }
        let uri = try PKCS11URI(options.certificatePath)
        let module =
            options.pkcs11Module ?? context.environment["HAPPY_PKCS11_MODULE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.p11KitProxy
        let label = uri["token"].map { "token \"\($0)\"" } ?? "the token"
        return try ClientIdentity.loadToken(uri: uri, modulePath: module) {
            try password.read(prompt: "PIN for \(label): ")
        }
    }

    /// p11-kit's proxy module, which reaches every module registered with p11-kit (SoftHSM, OpenSC, YubiKey PIV…).
    static var p11KitProxy: String {
        let candidates = [
            "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so", "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so",
            "/usr/lib64/p11-kit-proxy.so", "/usr/lib/p11-kit-proxy.so",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }

    /// Each outcome of PROTOCOL §2 as one line the user can act on.
    private func interpret(_ reply: HappyAPI.Reply<TokenReply>, api: HappyAPI) async throws -> String {
        switch reply.status {
        case 200:
            guard let token = reply.value?.token, !token.isEmpty else {
                throw HappyError.badResponse("the mTLS login succeeded but carried no token")
            }
            guard BearerToken.isAcceptable(token) else {
                throw HappyError.badResponse("the mTLS login carried \(BearerToken.problem(token))")
            }
            return token
        case 401:
            throw HappyError.refused(
                "the server saw no client certificate (HTTP 401). If a proxy terminates TLS in front of it, the "
                    + "proxy is not asking for or not forwarding the certificate (nginx: ssl_verify_client)")
        case 403 where reply.error == "e2ee-required": throw ServerRefusal.e2eeRequired()
        case 403 where reply.error == "account-disabled": throw ServerRefusal.accountDisabled(server: options.server)
        case 403 where reply.error == "certificate-revoked":
            throw HappyError.refused(
                "the server refused this certificate as revoked (403 certificate-revoked); ask "
                    + "for a new certificate")
        case 403:
            throw HappyError.refused(
                "the server refused this certificate (403 not-eligible): its issuer or e-mail "
                    + "domain is not allowed, or the identity is unknown and auto-provisioning is off. Ask your Happy "
                    + "administrator to allow it")
        case 409:
            throw HappyError.refused(
                "this identity belongs to an end-to-end encrypted account (409 restore-required), "
                    + "which a certificate cannot unlock; log in with `happy auth login` (QR code) instead")
        case 400 where reply.bodyPrefix.contains("No required SSL certificate was sent"):
            throw HappyError.refused(
                "the TLS proxy in front of \(options.server) received no client certificate (HTTP 400)")
        case 400 where reply.bodyPrefix.contains("SSL certificate error"):
            throw HappyError.refused(
                "the server did not accept this certificate: the TLS proxy could not verify it "
                    + "(HTTP 400). Check that it was issued by your company's CA and has not been revoked")
        case 404:
            let features = try? await api.features()
            let advertised = features?["features"]?["mtls"]?["enabled"]?.boolValue
            let detail =
                advertised == true
                ? "it advertises mTLS in /v1/features, but /v1/auth/mtls is missing; check the proxy's routes"
                : "GET /v1/features does not advertise mTLS; an administrator must enable "
                    + "HAPPIER_FEATURE_AUTH_MTLS__ENABLED"
            throw HappyError.failed("mTLS login is not enabled on \(options.server) (HTTP 404): \(detail)")
        default:
            throw HappyError.badResponse(
                "POST /v1/auth/mtls answered HTTP \(reply.status)"
                    + (reply.error.map { " (\(TerminalText.excerpt($0)))" } ?? ""))
        }
    }

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    static func describe(source: String) -> String {
        switch source {
        case "san_email": "the certificate's SAN e-mail"
        case "san_upn": "the certificate's SAN UPN"
        case "subject_cn": "the subject CN"
        default: "the certificate fingerprint: no e-mail, UPN or CN"
        }
    }
}

/// The certificate password: `--cert-password-file`, else `HAPPY_CERT_PASSWORD`, else a no-echo prompt on a TTY.
/// Never from argv.
struct CertificatePassword {
    let options: CertificateLoginOptions
    let context: HappyContext

    func read(prompt: String? = nil) throws -> SecretBytes? {
        if let file = options.passwordFile {
            let whole: SecretBytes
            do { whole = try BoundedFile.readSecret(file, limit: 64 << 10) } catch {
                throw HappyError.refused("cannot read the password file \(file): \(error.reason)")
            }
            // The first line is the password (a final newline or CRLF is not part of it).
            return try whole.withUnsafeBytes { all in
                let end = all.firstIndex { $0 == 0x0A || $0 == 0x0D } ?? all.count
                return try SecretBytes(count: end) { dst in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[0..<end]))
                }
            }
        }
        if let env = context.environment["HAPPY_CERT_PASSWORD"] {
            var bytes = Array(env.utf8)
            return try SecretBytes(consuming: &bytes)
        }
        if context.console.canPrompt {
            return try context.console.readSecret(prompt ?? "Password for \(options.certificatePath): ")
        }
        return nil
    }
}
