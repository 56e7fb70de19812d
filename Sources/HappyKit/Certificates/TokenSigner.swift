internal import COpenSSL
import FoundationEssentials

/// A TLS signature scheme a token key can make (RFC 8446 names); the transport maps NIOSSL's algorithms onto these.
enum TokenSignatureScheme: Sendable, CaseIterable {
    case ecdsaSHA256, ecdsaSHA384, ecdsaSHA512
    case rsaPKCS1SHA256, rsaPKCS1SHA384, rsaPKCS1SHA512
    case rsaPSSSHA256, rsaPSSSHA384, rsaPSSSHA512
}

/// A private key that stays on a PKCS#11 token (PROTOCOL §6), reached through OpenSSL 3's ENGINE API and libp11's
/// `pkcs11` engine. Signing goes to `EVP_PKEY_sign` on the token's key: the key is never read out. Owns the engine
/// and the key; no OpenSSL pointer leaves this file. Signing is serialized (one PKCS#11 session).
final class TokenSigner: @unchecked Sendable {  // the OpenSSL objects are only touched under `lock`
    private let engine: OpaquePointer  // ENGINE *, initialised
    private let key: OpaquePointer  // EVP_PKEY *
    private let lock = PThreadLock()
    /// The schemes this key type supports, best first.
    let schemes: [TokenSignatureScheme]

    /// Opens the token through the engine and loads the certificate and private key `uri` selects. The PIN reaches
    /// the engine from a NUL-terminated copy in locked memory. Throws `refused` (exit 77) with one line for a missing
    /// engine or module, a certificate or key that is not there, a wrong PIN, or a key that does not match.
    static func open(uri: PKCS11URI, modulePath: String, pin: () throws -> SecretBytes?) throws
        -> (signer: TokenSigner, certificateDER: [UInt8])
    {
        defer { OpenSSLErrors.clear() }
        guard FileManager.default.fileExists(atPath: modulePath) else {
            throw HappyError.refused(
                "the PKCS#11 module \(modulePath) does not exist; pass the right one with --pkcs11-module or "
                    + "HAPPY_PKCS11_MODULE")
        }
        ENGINE_load_builtin_engines()
        guard let engine = ENGINE_by_id("pkcs11") else {
            throw HappyError.refused(
                "OpenSSL's PKCS#11 engine is not installed (Debian: apt install libengine-pkcs11-openssl)")
        }
        var initialised = false
        var keepEngine = false
        defer {
            if !keepEngine {
                if initialised { ENGINE_finish(engine) }
                ENGINE_free(engine)
            }
        }
        // QUIET: libp11 otherwise prints its own diagnostics to stderr; we report one line of our own.
        _ = ENGINE_ctrl_cmd_string(engine, "QUIET", nil, 0)
        // UI_null: the engine must never prompt on the terminal by itself (a PIN read there would bypass locked
        // memory, and a blind retry could count against the token's PIN tries).
        _ = ENGINE_ctrl_cmd(engine, "SET_USER_INTERFACE", 0, UnsafeMutableRawPointer(UI_null()), nil, 0)
        guard ENGINE_ctrl_cmd_string(engine, "MODULE_PATH", modulePath, 0) == 1, ENGINE_init(engine) == 1 else {
            throw HappyError.refused("the PKCS#11 module \(modulePath) could not be loaded")
        }
        initialised = true

        let certificateURI = uri.selecting(type: "cert")
        guard let certificate = happy_engine_load_certificate(engine, certificateURI) else {
            throw HappyError.refused(
                "no certificate object matches \(uri.description) on the tokens of \(modulePath) (check token= and "
                    + "object=/id=; `p11tool --list-all-certs` lists them)")
        }
        defer { X509_free(certificate) }

        guard let given = try pin() else {
            throw HappyError.refused(
                "the token's PIN is needed; put it in a file and pass --cert-password-file <file>, or set "
                    + "HAPPY_CERT_PASSWORD")
        }
        let terminated = try given.nulTerminated()
        let pinSet = terminated.withUnsafeBytes {
            ENGINE_ctrl_cmd_string(engine, "PIN", $0.baseAddress?.assumingMemoryBound(to: CChar.self), 0)
        }
        guard pinSet == 1 else { throw HappyError.internalFailure("the PKCS#11 engine did not take the PIN") }
        OpenSSLErrors.clear()
        guard let key = ENGINE_load_private_key(engine, uri.selecting(type: "private"), UI_null(), nil) else {
            let errors = OpenSSLErrors.take()
            if errors.firstMessage?.lowercased().contains("pin") == true || Self.loginFailed(errors) {
                throw HappyError.refused("wrong PIN for the token of \(uri.description) (or the PIN is locked)")
            }
            throw HappyError.refused(
                "no private key object matches \(uri.description) on the token, or it cannot be used for signing")
        }
        guard X509_check_private_key(certificate, key) == 1 else {
            EVP_PKEY_free(key)
            throw HappyError.refused(
                "the private key on the token does not belong to the certificate \(uri.description)")
        }
        let der = try Self.der(certificate)
        let signer = TokenSigner(engine: engine, key: key)
        keepEngine = true
        return (signer, der)
    }

    private init(engine: OpaquePointer, key: OpaquePointer) {
        self.engine = engine
        self.key = key
        switch (EVP_PKEY_get_base_id(key), EVP_PKEY_get_bits(key)) {
        case (EVP_PKEY_EC, 384): schemes = [.ecdsaSHA384]
        case (EVP_PKEY_EC, 521): schemes = [.ecdsaSHA512]
        case (EVP_PKEY_EC, _): schemes = [.ecdsaSHA256]
        case (EVP_PKEY_RSA, _):
            schemes = [.rsaPSSSHA256, .rsaPSSSHA384, .rsaPSSSHA512, .rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512]
        default: schemes = []
        }
    }

    deinit {
        EVP_PKEY_free(key)
        ENGINE_finish(engine)
        ENGINE_free(engine)
        OpenSSLErrors.clear()
    }

    /// Hashes `data` with the scheme's digest and has the token sign the digest (ECDSA: DER `ECDSA-Sig-Value`).
    func sign(_ scheme: TokenSignatureScheme, data: [UInt8]) throws -> [UInt8] {
        lock.lock()
        defer {
            lock.unlock()
            OpenSSLErrors.clear()
        }
        guard let md = Self.digest(scheme) else { throw HappyError.internalFailure("unknown digest") }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var digestLength: UInt32 = 0
        guard EVP_Digest(data, data.count, &digest, &digestLength, md, nil) == 1 else {
            throw HappyError.internalFailure("cannot hash the handshake")
        }
        guard let ctx = EVP_PKEY_CTX_new(key, engine) else { throw HappyError.internalFailure("out of memory") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_sign_init(ctx) == 1, EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 else {
            throw HappyError.refused("the token refused to sign (\(OpenSSLErrors.take().firstMessage ?? "no reason"))")
        }
        switch scheme {
        case .rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512:
            guard EVP_PKEY_CTX_set_rsa_padding(ctx, happy_RSA_PKCS1_PADDING()) == 1 else {
                throw HappyError.refused("the token cannot make RSA PKCS#1 signatures")
            }
        case .rsaPSSSHA256, .rsaPSSSHA384, .rsaPSSSHA512:
            guard EVP_PKEY_CTX_set_rsa_padding(ctx, happy_RSA_PKCS1_PSS_PADDING()) == 1,
                EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, happy_RSA_PSS_SALTLEN_DIGEST()) == 1,
                EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1
            else { throw HappyError.refused("the token cannot make RSA-PSS signatures") }
        case .ecdsaSHA256, .ecdsaSHA384, .ecdsaSHA512:
            break
        }
        var length = 0
        guard EVP_PKEY_sign(ctx, nil, &length, digest, Int(digestLength)) == 1, length > 0 else {
            throw HappyError.refused("the token refused to sign (\(OpenSSLErrors.take().firstMessage ?? "no reason"))")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_sign(ctx, &signature, &length, digest, Int(digestLength)) == 1 else {
            throw HappyError.refused("the token refused to sign (\(OpenSSLErrors.take().firstMessage ?? "no reason"))")
        }
        return Array(signature.prefix(length))
    }

    private static func digest(_ scheme: TokenSignatureScheme) -> OpaquePointer? {
        switch scheme {
        case .ecdsaSHA256, .rsaPKCS1SHA256, .rsaPSSSHA256: EVP_sha256()
        case .ecdsaSHA384, .rsaPKCS1SHA384, .rsaPSSSHA384: EVP_sha384()
        case .ecdsaSHA512, .rsaPKCS1SHA512, .rsaPSSSHA512: EVP_sha512()
        }
    }

    /// libp11 reports a failed C_Login (CKR_PIN_INCORRECT and friends) under its own library code.
    private static func loginFailed(_ errors: OpenSSLErrors) -> Bool {
        guard let text = errors.firstMessage?.lowercased() else { return false }
        return text.contains("login") || text.contains("pin_incorrect") || text.contains("pin incorrect")
    }

    private static func der(_ certificate: OpaquePointer) throws -> [UInt8] {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { throw HappyError.internalFailure("cannot DER-encode the token's certificate") }
        return try [UInt8](unsafeUninitializedCapacity: Int(length)) { buffer, count in
            var cursor = buffer.baseAddress
            guard i2d_X509(certificate, &cursor) == length else {
                throw HappyError.internalFailure("cannot DER-encode the token's certificate")
            }
            count = Int(length)
        }
    }
}
