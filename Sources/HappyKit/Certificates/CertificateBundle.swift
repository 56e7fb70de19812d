internal import COpenSSL
import FoundationEssentials

/// The certificates and private key read from `--cert`/`--key`, held as OpenSSL objects until `export` turns them
/// into DER. Owns every object it holds and frees them in `deinit`; no OpenSSL pointer leaves this file.
final class CertificateBundle {
    private var certificates: [OpaquePointer] = []  // X509 *, in file order
    private var key: OpaquePointer?  // EVP_PKEY *

    deinit {
        certificates.forEach { X509_free($0) }
        EVP_PKEY_free(key)
        OpenSSLErrors.clear()  // leave nothing on this thread's error queue
    }

    var hasKey: Bool { key != nil }

    /// Every certificate block of a PEM file; other blocks (keys included) are left alone.
    func addPEMCertificates(from file: CertificateFile, _ blocks: [PEMBlock]) throws {
        for block in blocks where block.isCertificate {
            let certificate = try Self.withBIO(file, block) { bio in
                block.label == "TRUSTED CERTIFICATE"
                    ? PEM_read_bio_X509_AUX(bio, nil, nil, nil) : PEM_read_bio_X509(bio, nil, nil, nil)
            }
            guard let certificate else {
                OpenSSLErrors.clear()
                throw HappyError.refused(
                    "\(file.path) contains a certificate that cannot be read; is the file damaged?")
            }
            certificates.append(certificate)
        }
        guard !certificates.isEmpty else { throw HappyError.refused("no certificate found in \(file.path)") }
    }

    /// The one private key block of a PEM file, decrypted with `password(path)` when it is encrypted.
    func addPEMKey(from file: CertificateFile, isSeparate: Bool, password: (String) throws -> SecretBytes) throws {
        let keys = file.bytes.withUnsafeBytes { PEMBlock.scan($0) }.filter(\.isPrivateKey)
        guard let block = keys.first else {
            throw HappyError.refused(
                isSeparate
                    ? "no PEM private key found in \(file.path)"
                    : "no private key found in \(file.path); pass the key file with --key <file>")
        }
        guard keys.count == 1 else { throw HappyError.refused("\(file.path) holds more than one private key") }
        let secret = block.isEncrypted ? try password(file.path) : nil
        // Only a cipher can need the legacy provider (DES in old traditional keys); a damaged plain key cannot.
        let (parsed, errors) = try Self.withLegacyFallback(file.path, enabled: block.isEncrypted) {
            try Self.withBIO(file, block) { bio in
                guard let secret else { return PEM_read_bio_PrivateKey(bio, nil, copyPassword, nil) }
                return secret.withUnsafeBytes {
                    PEM_read_bio_PrivateKey(bio, nil, copyPassword, UnsafeMutableRawPointer(mutating: $0.baseAddress))
                }
            }
        }
        guard let parsed else {
            if block.isEncrypted, errors.isBadDecrypt || !errors.isUnsupportedAlgorithm {
                throw Self.wrongPassword(file.path)
            }
            throw HappyError.refused(
                "the private key in \(file.path) cannot be read (damaged, or an unsupported key type or cipher)")
        }
        EVP_PKEY_free(key)
        key = parsed
    }

    /// A PKCS#12 bundle: its key, its certificate and any others. Returns false when the file is not PKCS#12 at all.
    /// A wrong password is told apart from damage by the MAC check, before anything is decrypted.
    func addPKCS12(
        from file: CertificateFile, hasKeyFile: Bool, password: (String) throws -> SecretBytes
    ) throws -> Bool {
        let parsed = file.bytes.withUnsafeBytes { raw -> OpaquePointer? in
            var cursor = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) as UnsafePointer<UInt8>?
            return d2i_PKCS12(nil, &cursor, raw.count)
        }
        guard let pkcs12 = parsed else {
            OpenSSLErrors.clear()
            return false
        }
        defer { PKCS12_free(pkcs12) }
        guard !hasKeyFile else {
            throw HappyError.refused("\(file.path) is a PKCS#12 bundle, which carries its own key; drop --key")
        }
        // A nil password makes OpenSSL try both "none" and the empty one; ask only when neither opens the MAC.
        var secret: SecretBytes?
        let hasMAC = PKCS12_mac_present(pkcs12) == 1
        if hasMAC, PKCS12_verify_mac(pkcs12, nil, 0) != 1, PKCS12_verify_mac(pkcs12, "", 0) != 1 {
            OpenSSLErrors.clear()
            let given = try password(file.path)
            let verified = given.withUnsafeBytes {
                PKCS12_verify_mac(pkcs12, $0.baseAddress?.assumingMemoryBound(to: CChar.self), -1)
            }
            guard verified == 1 else { throw Self.wrongPassword(file.path) }
            secret = given
        }
        OpenSSLErrors.clear()
        func parse() throws -> Bool {
            try Self.withLegacyFallback(file.path) { addParsedPKCS12(pkcs12, secret) ? true : nil }.0 ?? false
        }
        if try parse() { return true }
        if !hasMAC, secret == nil {  // without a MAC only decryption tells whether a password is needed
            secret = try password(file.path)
            if try parse() { return true }
        }
        if hasMAC { throw HappyError.refused("\(file.path) is a PKCS#12 bundle that cannot be read; is it damaged?") }
        throw Self.wrongPassword(file.path)
    }

    private func addParsedPKCS12(_ pkcs12: OpaquePointer, _ secret: SecretBytes?) -> Bool {
        var parsedKey: OpaquePointer?
        var certificate: OpaquePointer?
        var others: OpaquePointer?
        let status =
            if let secret {
                secret.withUnsafeBytes {
                    PKCS12_parse(
                        pkcs12, $0.baseAddress?.assumingMemoryBound(to: CChar.self), &parsedKey, &certificate, &others)
                }
            } else {
                PKCS12_parse(pkcs12, nil, &parsedKey, &certificate, &others)
            }
        guard status == 1 else { return false }  // PKCS12_parse frees its partial results on failure
        EVP_PKEY_free(key)
        key = parsedKey
        if let certificate { certificates.append(certificate) }
        if let others {
            for index in 0..<happy_sk_X509_num(others) {
                guard let extra = happy_sk_X509_value(others, index), X509_up_ref(extra) == 1 else { continue }
                certificates.append(extra)
            }
            happy_sk_X509_pop_free(others)
        }
        return true
    }

    /// A bare DER certificate (its key then comes from `--key`). Returns false when the file is not one.
    func addDERCertificate(from file: CertificateFile) -> Bool {
        let parsed = file.bytes.withUnsafeBytes { raw -> OpaquePointer? in
            var cursor = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) as UnsafePointer<UInt8>?
            return d2i_X509(nil, &cursor, raw.count)
        }
        guard let parsed else {
            OpenSSLErrors.clear()
            return false
        }
        certificates.append(parsed)
        return true
    }

    /// The chain as DER, leaf (the certificate that matches the key) first and the rest in file order, and the key as
    /// PKCS#8 DER in locked memory. Throws `refused` when no certificate matches the key.
    func export(keyPath: String, certificatePath: String) throws -> (chain: [[UInt8]], privateKey: SecretBytes) {
        guard let key else { throw HappyError.internalFailure("no private key to export") }
        guard let leaf = certificates.firstIndex(where: { X509_check_private_key($0, key) == 1 }) else {
            OpenSSLErrors.clear()
            throw HappyError.refused(
                "the private key in \(keyPath) does not belong to the certificate in \(certificatePath)")
        }
        var ordered = certificates
        ordered.insert(ordered.remove(at: leaf), at: 0)
        return (try ordered.map(Self.der), try Self.pkcs8(key))
    }

    /// Every certificate as DER, in file order (for a key that stays in a device, matched by the caller).
    func certificatesDER() throws -> [[UInt8]] { try certificates.map(Self.der) }

    /// Runs `attempt`; when it fails for want of an algorithm that OpenSSL 3 keeps in its legacy provider (RC2, DES),
    /// loads that provider and tries once more. Returns the errors of the last failed attempt.
    private static func withLegacyFallback<T>(
        _ path: String, enabled: Bool = true, _ attempt: () throws -> T?
    ) throws -> (T?, OpenSSLErrors) {
        if let value = try attempt() { return (value, OpenSSLErrors()) }
        let errors = OpenSSLErrors.take()
        guard enabled, errors.isUnsupportedAlgorithm, !errors.isBadDecrypt else { return (nil, errors) }
        guard LegacyProvider.isLoaded else {
            throw HappyError.refused(
                "\(path) uses legacy encryption (RC2/DES) and OpenSSL's legacy provider is not installed; "
                    + "re-export the file with AES or install the provider")
        }
        if let value = try attempt() { return (value, OpenSSLErrors()) }
        return (nil, OpenSSLErrors.take())
    }

    /// A read-only memory BIO over one PEM block, straight on the locked file buffer (no copy).
    private static func withBIO<T>(
        _ file: CertificateFile, _ block: PEMBlock, _ body: (OpaquePointer) throws -> T
    ) throws -> T {
        try file.bytes.withUnsafeBytes { text in
            guard let base = text.baseAddress,
                let bio = BIO_new_mem_buf(base + block.range.lowerBound, Int32(block.range.count))
            else { throw HappyError.internalFailure("out of memory") }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    private static func wrongPassword(_ path: String) -> HappyError {
        OpenSSLErrors.clear()
        return .refused("wrong password for \(path); check --cert-password-file or HAPPY_CERT_PASSWORD")
    }

    private static func der(_ certificate: OpaquePointer) throws -> [UInt8] {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { throw HappyError.internalFailure("cannot DER-encode the client certificate") }
        return try [UInt8](unsafeUninitializedCapacity: Int(length)) { buffer, count in
            var cursor = buffer.baseAddress
            guard i2d_X509(certificate, &cursor) == length else {
                throw HappyError.internalFailure("cannot DER-encode the client certificate")
            }
            count = Int(length)
        }
    }

    /// Encodes straight into locked memory; OpenSSL cleanses its own PKCS#8 structure when freeing it.
    private static func pkcs8(_ key: OpaquePointer) throws -> SecretBytes {
        guard let info = EVP_PKEY2PKCS8(key) else {
            OpenSSLErrors.clear()
            throw HappyError.internalFailure("cannot encode the private key as PKCS#8")
        }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        let length = i2d_PKCS8_PRIV_KEY_INFO(info, nil)
        guard length > 0 else { throw HappyError.internalFailure("cannot encode the private key as PKCS#8") }
        return try SecretBytes(count: Int(length)) { buffer in
            var cursor = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            guard i2d_PKCS8_PRIV_KEY_INFO(info, &cursor) == length else {
                throw HappyError.internalFailure("cannot encode the private key as PKCS#8")
            }
        }
    }
}

/// `pem_password_cb`: copies the NUL-terminated password passed as user data into OpenSSL's buffer (which OpenSSL
/// cleanses). Without one it fails, so OpenSSL never falls back to prompting on the terminal by itself.
private func copyPassword(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int32, _ writing: Int32, _ password: UnsafeMutableRawPointer?
) -> Int32 {
    guard let buffer, let password else { return -1 }
    let length = strlen(password.assumingMemoryBound(to: CChar.self))
    guard length <= Int(size) else { return -1 }
    memcpy(buffer, password, length)
    return Int32(length)
}
