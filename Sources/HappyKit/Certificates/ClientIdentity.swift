import FoundationEssentials
import Glibc

/// A client certificate and its private key, loaded from `--cert`/`--key` for mTLS login (PROTOCOL §2, §4).
/// Crosses to the TLS stack as DER bytes only; the key stays in `SecretBytes`.
public struct ClientIdentity: Sendable {
    /// Normalized metadata of the leaf certificate.
    public let info: ClientCertificateInfo
    /// The leaf first, then any other certificates from the file (intermediates, roots) in file order.
    public let certificateChainDER: [[UInt8]]
    /// PKCS#8 DER of the private key, for the TLS stack; nil for a token key. Secret: never log or persist it.
    public let privateKeyDER: SecretBytes?
    /// Problems worth telling the user that do not stop login, e.g. a key file other users can read.
    public let warnings: [String]
    /// The device key (a token's, PROTOCOL §6 and §7, or a TPM's) that signs in the handshake instead of
    /// `privateKeyDER`.
    let tokenSigner: (any DeviceKeySigner)?
    /// The `pkcs11:` URI of a token identity, without any PIN; nil for files.
    public let tokenURI: String?
    /// The absolute path of the TPM key file (`TSS2 PRIVATE KEY`) a TPM identity was loaded from; nil otherwise.
    public let tpmKeyPath: String?

    init(
        info: ClientCertificateInfo, certificateChainDER: [[UInt8]], privateKeyDER: SecretBytes?,
        warnings: [String], tokenSigner: (any DeviceKeySigner)? = nil, tokenURI: String? = nil,
        tpmKeyPath: String? = nil
    ) {
        self.tpmKeyPath = tpmKeyPath
        self.info = info
        self.certificateChainDER = certificateChainDER
        self.privateKeyDER = privateKeyDER
        self.warnings = warnings
        self.tokenSigner = tokenSigner
        self.tokenURI = tokenURI
    }

    /// Loads the certificate and key a `pkcs11:` URI selects through the PKCS#11 module at `modulePath` (PROTOCOL §6).
    /// The key never leaves the token; `pin` is called once, after the certificate was found. Throws `refused` (exit
    /// 77) with one line for a module that is not one, a missing object, a PIN problem, or a mismatch. The token
    /// session stays open until `close()` (or until the identity is released).
    public static func loadToken(uri: PKCS11URI, modulePath: String, pin: () throws -> SecretBytes?) throws
        -> ClientIdentity
    {
        try LazyCrypto.load()
        let opened = try TokenSigner.open(uri: uri, modulePath: modulePath, pin: pin)
        let (signer, der, onToken) = (opened.signer, opened.certificateDER, opened.certificatesOnToken)
        guard !signer.schemes.isEmpty else {
            throw HappyError.refused("the token cannot make a signature TLS client login accepts with this key")
        }
        // The issuer, when the token holds it too, goes after the leaf (for the OCSP preflight and the handshake).
        let issuer = OCSPQuery.issuer(of: der, among: onToken.filter { $0 != der })
        return ClientIdentity(
            info: try ClientCertificateInfo(derEncoded: der), certificateChainDER: [der] + (issuer.map { [$0] } ?? []),
            privateKeyDER: nil, warnings: [], tokenSigner: signer, tokenURI: uri.normalized)
    }

    /// Releases the device key at once: logs out of the token, closes its session and finalises the PKCS#11 module
    /// (PROTOCOL §7). Later handshakes with this identity fail. Does nothing for a key from a file.
    public func close() { tokenSigner?.close() }

    /// Loads a PEM certificate (the key in the same file or in `keyPath`) or a PKCS#12 bundle; the format comes from
    /// the content, not the file name. Checks that the key belongs to the certificate. Throws `HappyError.refused`
    /// (exit 77) with a one-line reason for unreadable or unknown files, a wrong or missing password, or a mismatch.
    ///
    /// `password` is called at most once, and only when the file turns out to need one; it returns nil when none is
    /// available. The password reaches OpenSSL from a NUL-terminated copy in locked memory, never as a `String`.
    /// Files are read into locked memory too, and every OpenSSL object is freed before returning.
    ///
    /// A `TSS2 PRIVATE KEY` (in `keyPath`, or beside the certificate) is a TPM key (PROTOCOL §7): it is loaded into
    /// the TPM `environment["TPM2OPENSSL_TCTI"]` names and signs there; see `TPMKeySigner`.
    public static func load(
        certificatePath: String, keyPath: String?, environment: [String: String] = [:],
        password: () throws -> SecretBytes?
    ) throws -> ClientIdentity {
        try LazyCrypto.load()
        var cached: SecretBytes?
        func passwordFor(_ path: String) throws -> SecretBytes {
            if let cached { return cached }
            guard let given = try password() else {
                throw HappyError.refused(
                    "\(path) is protected by a password; put it in a file and pass --cert-password-file <file>, "
                        + "or set HAPPY_CERT_PASSWORD")
            }
            let terminated = try given.nulTerminated()
            cached = terminated
            return terminated
        }

        let certificateFile = try CertificateFile(path: certificatePath, role: "certificate file")
        let keyFile = try keyPath.map { try CertificateFile(path: $0, role: "key file") }
        let bundle = CertificateBundle()
        let blocks = certificateFile.bytes.withUnsafeBytes { PEMBlock.scan($0) }
        if !blocks.isEmpty {
            try bundle.addPEMCertificates(from: certificateFile, blocks)
        } else if try !bundle.addPKCS12(from: certificateFile, hasKeyFile: keyFile != nil, password: passwordFor),
            !bundle.addDERCertificate(from: certificateFile)
        {
            throw HappyError.refused(
                "\(certificatePath) is neither PEM nor PKCS#12 (unknown format); --cert takes a .pem certificate "
                    + "or a .p12/.pfx bundle")
        }
        let keySource = keyFile ?? certificateFile
        if !bundle.hasKey, let tss2 = keySource.bytes.withUnsafeBytes({ PEMBlock.scan($0) }).first(where: \.isTPMKey) {
            return try loadTPM(
                keySource, tss2, bundle: bundle, certificatePath: certificatePath, environment: environment)
        }
        if !bundle.hasKey {
            try bundle.addPEMKey(from: keySource, isSeparate: keyFile != nil, password: passwordFor)
        }
        let (chain, privateKey) = try bundle.export(keyPath: keySource.path, certificatePath: certificatePath)
        return ClientIdentity(
            info: try ClientCertificateInfo(derEncoded: chain[0]), certificateChainDER: chain,
            privateKeyDER: privateKey, warnings: [keySource.keyPermissionWarning].compactMap { $0 })
    }

    /// The certificates of `bundle` with a TPM key: the leaf is the certificate whose public key is the TPM key's.
    private static func loadTPM(
        _ keyFile: CertificateFile, _ block: PEMBlock, bundle: CertificateBundle, certificatePath: String,
        environment: [String: String]
    ) throws -> ClientIdentity {
        let certificates = try bundle.certificatesDER()
        let signer = try TPMKeySigner.load(keyFile, block: block, environment: environment)
        let leaf = certificates.firstIndex { der in
            guard let key = signer.publicKey else { return true }
            return (try? CertificatePublicKey(der: der))?.material == key.material
        }
        guard let leaf else {
            throw HappyError.refused(
                "the TPM key in \(keyFile.path) does not belong to the certificate in \(certificatePath)")
        }
        var chain = certificates
        chain.insert(chain.remove(at: leaf), at: 0)
        return ClientIdentity(
            info: try ClientCertificateInfo(derEncoded: chain[0]), certificateChainDER: chain, privateKeyDER: nil,
            warnings: [keyFile.keyPermissionWarning].compactMap { $0 }, tokenSigner: signer,
            tpmKeyPath: absolute(keyFile.path))
    }

    /// `path` from the root: a relative path is taken from the working directory (what `status` shows later).
    private static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }

    /// The DER of the certificate in the chain that issued the leaf (for the OCSP preflight); nil when the file held
    /// none.
    public var issuerCertificateDER: [UInt8]? {
        guard let leaf = certificateChainDER.first else { return nil }
        return OCSPQuery.issuer(of: leaf, among: Array(certificateChainDER.dropFirst()))
    }

    /// Local checks before any network traffic: throws `HappyError.refused` naming both ends of the validity window
    /// (ISO 8601, UTC) when `now` lies outside it; returns a warning when the certificate expires within 14 days.
    public func checkValidity(now: Date) throws -> [String] {
        let from = info.notBefore.formatted(.iso8601)
        let until = info.notAfter.formatted(.iso8601)
        if now < info.notBefore {
            throw HappyError.refused(
                "the client certificate is not valid yet (valid from \(from) until \(until)); "
                    + "check the system clock, or use a current certificate")
        }
        if now > info.notAfter {
            throw HappyError.refused(
                "the client certificate expired (valid from \(from) until \(until)); get a new certificate")
        }
        let remaining = info.notAfter.timeIntervalSince(now)
        guard remaining < Self.expiryWarningDays * 86_400 else { return [] }
        let days = Self.daysLeft(until: info.notAfter, now: now)
        return ["the client certificate expires in \(days) day\(days == 1 ? "" : "s") (\(until)); renew it soon"]
    }

    /// `checkValidity` warns when fewer days than this are left.
    public static let expiryWarningDays: Double = 14

    /// Whole days until `notAfter`, a part day counting as a day (so never 0 while still valid); negative once past.
    /// The one count both login and `status` show.
    public static func daysLeft(until notAfter: Date, now: Date) -> Int {
        // Clamped: a date from a file can be anything, and Int(_:) of a huge or non-finite Double traps.
        let days = notAfter.timeIntervalSince(now) / 86_400
        let remaining = days.isFinite ? min(max(days, -1e9), 1e9) : 0
        return remaining > 0 ? max(1, Int(remaining.rounded(.up))) : min(-1, Int(remaining.rounded(.down)))
    }
}
