import FoundationEssentials

/// What the certificate logins share (PROTOCOL §2): the identity is loaded and checked locally, the identity the
/// server will most likely use is shown, the OCSP preflight runs — all before `--force` clears anything and before
/// any request to the Happy server — then `POST /v1/auth/mtls` presents the certificate. A success is a keyless
/// login: a token and certificate metadata, never keys. Each source of identity is one small strategy
/// (`CertificateFileLogin`, `TokenKeyLogin`) that only says how to load it.
protocol CertificateLogin: LoginStrategy where Prepared == ClientIdentity {
    /// The certificate and its key, loaded and checked (exit 77 with one line when they cannot be used).
    func loadIdentity(_ login: LoginSession, password: CertificatePassword) throws -> ClientIdentity
}

extension CertificateLogin {
    func prepare(_ login: LoginSession) async throws -> ClientIdentity {
        try LazyCrypto.load()  // before anything touches OpenSSL: a missing libcrypto is one line, nothing done
        let identity = try loadIdentity(login, password: CertificatePassword(login: login))
        do {
            try await preview(identity, login)
            return identity
        } catch {
            identity.close()
            throw error
        }
    }

    /// Releases the device key: a token session is logged out and its module finalised, a TPM key unloaded (§7).
    func finish(_ identity: ClientIdentity) { identity.close() }

    /// The local checks and the identity preview, then the OCSP preflight.
    private func preview(_ identity: ClientIdentity, _ login: LoginSession) async throws {
        let console = login.console
        for warning in identity.warnings + (try identity.checkValidity(now: login.context.timing.now())) {
            console.warn(warning)
        }
        let info = identity.info
        let likely = info.likelyIdentity
        console.err("Certificate: \(TerminalText.escape(info.subjectDN))")
        console.err("  Issuer: \(TerminalText.escape(info.issuerDN))")
        console.err("  Fingerprint (SHA-256): \(info.fingerprint256)")
        console.err("  Valid until: \(info.notAfter.formatted(.iso8601))")
        console.err(
            "The server will most likely identify you as \(TerminalText.escape(likely.value)) "
                + "(\(Self.describe(source: likely.source))).")
        // The issuer from the PEM chain or PKCS#12 bag, else from the --ca bundle (tokens usually hold only the leaf).
        let leaf = identity.certificateChainDER[0]
        let caFile = login.options.caFile
        let issuer =
            identity.issuerCertificateDER
            ?? caFile.flatMap { OCSPQuery.issuer(of: leaf, among: OCSPQuery.certificates(inPEMFile: $0)) }
        try await RevocationPreflight(
            mode: login.options.revocationCheck, context: login.context, caFile: caFile, deadline: login.deadline
        ).check(leafDER: leaf, issuerDER: issuer)
    }

    func credentials(_ identity: ClientIdentity, _ login: LoginSession) async throws -> LoginCredentials {
        let token = try await login.withAPI(clientIdentity: identity) { api in
            let reply = try await login.deadline.bounding { try await api.mtlsLogin(timeout: $0) }
            return try await MTLSAnswer.token(from: reply, api: api, deadline: login.deadline)
        }
        let info = identity.info
        let likely = info.likelyIdentity
        let metadata = CertificateLoginMetadata(
            identity: likely.value, source: likely.source, issuer: info.issuerDN, fingerprint: info.fingerprint256,
            notAfter: info.notAfter.formatted(.iso8601), tokenURI: identity.tokenURI,
            tpmKeyPath: identity.tpmKeyPath)
        return LoginCredentials(
            accessKey: .keyless(token: token, metadata: metadata),
            summary: "with the device certificate as \(TerminalText.escape(likely.value)) (keyless)")
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

/// The certificate password or token PIN: `--cert-password-file`, else `HAPPY_CERT_PASSWORD`, else a no-echo prompt
/// on a TTY. Never from argv; always into `SecretBytes`.
struct CertificatePassword {
    let passwordFile: String?
    let context: HappyContext

    init(login: LoginSession) {
        passwordFile = login.options.passwordFile
        context = login.context
    }

    func read(prompt: String) throws -> SecretBytes? {
        if let file = passwordFile {
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
        if context.console.canPrompt { return try context.console.readSecret(prompt) }
        return nil
    }
}
