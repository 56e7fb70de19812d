internal import COpenSSL
internal import CPKCS11
import FoundationEssentials

/// A private key that stays on a PKCS#11 token, used through the module itself (PROTOCOL §7): no OpenSSL ENGINE.
/// Owns the session (logged in once) and, through it, the initialised module; `close()` or `deinit` logs out,
/// closes the session and finalises the module. Signatures are made with `C_SignInit`/`C_Sign` over digests made
/// locally, one at a time (one session).
final class TokenSigner: DeviceKeySigner, @unchecked Sendable {  // the session serialises every call into it
    private let session: PKCS11Session
    private let key: ck_object_handle_t
    private let tokenName: String
    /// The schemes this key and token support, best first.
    let schemes: [TokenSignatureScheme]

    /// What opening a token gives: the signer, the certificate's DER, and every certificate on that token.
    struct Opened {
        let signer: TokenSigner
        let certificateDER: [UInt8]
        let certificatesOnToken: [[UInt8]]
    }

    /// Loads the module, finds the token and certificate `uri` selects, logs in once with the PIN `pin` returns
    /// (called once, after the certificate was found; the `SecretBytes` is released, and so wiped, right after
    /// `C_Login`), and finds the private key. Throws `refused` (exit 77) with one line for a module, token, object,
    /// PIN or key problem; whatever was opened is closed again before the error leaves.
    static func open(uri: PKCS11URI, modulePath: String, pin: () throws -> SecretBytes?) throws -> Opened {
        let module = try PKCS11Module.load(path: modulePath)
        var found: (session: PKCS11Session, certificate: ck_object_handle_t, der: [UInt8], name: String)?
        for (slot, name) in TokenCertificates.slots(of: module, matching: uri) {
            let session = try PKCS11Session(module: module, slot: slot, tokenName: name)
            if let object = TokenCertificates.objects(CKO_CERTIFICATE, matching: uri, in: session).first,
                let der = TokenCertificates.attribute(CKA_VALUE, of: object, in: session)
            {
                found = (session, object, der, name)
                break
            }
            session.close()
        }
        guard let found else {
            throw HappyError.refused(
                "no certificate object matches \(uri.description) on the tokens of \(modulePath) (check token= and "
                    + "object=/id=; `p11tool --list-all-certs` lists them)")
        }
        let session = found.session
        let publicKey = try CertificatePublicKey(der: found.der)
        try logIn(session, tokenName: found.name, pin: pin)
        guard let key = TokenCertificates.objects(CKO_PRIVATE_KEY, matching: uri, in: session).first else {
            throw HappyError.refused(
                "no private key object matches \(uri.description) on the token, or it cannot be used for signing")
        }
        guard publicKey.matches(token: key, in: session) else {
            throw HappyError.refused(
                "the private key on the token does not belong to the certificate \(uri.description)")
        }
        let mechanisms = module.mechanisms(session.slot)
        func offers(_ mechanism: ck_mechanism_type_t) -> Bool { mechanisms?.contains(mechanism) ?? true }
        let schemes = TokenSignatureScheme.schemes(
            isEC: publicKey.isEC, bits: publicKey.bits, pss: offers(CKM_RSA_PKCS_PSS), pkcs1: offers(CKM_RSA_PKCS))
        let signer = TokenSigner(session: session, key: key, tokenName: found.name, schemes: schemes)
        return Opened(
            signer: signer, certificateDER: found.der, certificatesOnToken: TokenCertificates.all(in: session))
    }

    /// `C_Login` once, unless the token needs no login; a locked PIN is reported without trying (no try is used up).
    private static func logIn(_ session: PKCS11Session, tokenName: String, pin: () throws -> SecretBytes?) throws {
        guard let info = session.module.tokenInfo(session.slot) else {
            throw HappyError.refused("\(tokenName) does not answer (C_GetTokenInfo failed)")
        }
        if info.flags & CKF_USER_PIN_LOCKED != 0 {
            throw TokenFailure.error(CKR_PIN_LOCKED, token: tokenName, during: "logging in")
        }
        guard info.flags & CKF_LOGIN_REQUIRED != 0 else { return }
        if info.flags & CKF_PROTECTED_AUTHENTICATION_PATH != 0 {
            try session.login(pin: nil, tokenName: tokenName)  // the reader's PIN pad asks
            return
        }
        guard let given = try pin() else {
            throw HappyError.refused(
                "the token's PIN is needed; put it in a file and pass --cert-password-file <file>, or set "
                    + "HAPPY_CERT_PASSWORD")
        }
        try session.login(pin: given, tokenName: tokenName)
    }

    private init(session: PKCS11Session, key: ck_object_handle_t, tokenName: String, schemes: [TokenSignatureScheme]) {
        self.session = session
        self.key = key
        self.tokenName = tokenName
        self.schemes = schemes
    }

    deinit { close() }

    /// Logs out, closes the session and finalises the module (once; also on `deinit`).
    func close() {
        session.close()
        session.module.finalize()
    }

    /// Hashes `data` locally with the scheme's digest and has the token sign it (ECDSA: DER `ECDSA-Sig-Value`).
    func sign(_ scheme: TokenSignatureScheme, data: [UInt8]) throws -> [UInt8] {
        let digest = try DeviceSignature.digest(scheme.hash, data)
        let functions = session.module.functions
        guard let signInit = functions.C_SignInit, let sign = functions.C_Sign else {
            throw HappyError.refused("the PKCS#11 module \(session.module.path) cannot sign")
        }
        // PSS: MGF1 with the same hash, salt as long as the hash (RFC 8446 §4.2.3).
        var pss = ck_rsa_pkcs_pss_params()
        (pss.hash_alg, pss.mgf) =
            switch scheme.hash {
            case .sha256: (CKM_SHA256, CKG_MGF1_SHA256)
            case .sha384: (CKM_SHA384, CKG_MGF1_SHA384)
            case .sha512: (CKM_SHA512, CKG_MGF1_SHA512)
            }
        pss.s_len = UInt(digest.count)
        let (mechanismType, input): (ck_mechanism_type_t, [UInt8]) =
            switch scheme.padding {
            case .ecdsa: (CKM_ECDSA, digest)
            case .pkcs1: (CKM_RSA_PKCS, DeviceSignature.digestInfoPrefix(scheme.hash) + digest)
            case .pss: (CKM_RSA_PKCS_PSS, digest)
            }
        let raw: [UInt8] = try session.withSession { handle in
            try withUnsafeMutableBytes(of: &pss) { parameters in
                var mechanism = ck_mechanism(mechanism: mechanismType, parameter: nil, parameter_len: 0)
                if scheme.padding == .pss {
                    mechanism.parameter = parameters.baseAddress
                    mechanism.parameter_len = UInt(parameters.count)
                }
                var status = signInit(handle, &mechanism, key)
                guard status == CKR_OK else {
                    throw TokenFailure.error(status, token: tokenName, during: "starting a signature")
                }
                var input = input
                let inputLength = UInt(input.count)
                var signature = [UInt8](repeating: 0, count: 1024)  // RSA 8192 at most; C_Sign says if more
                var length = UInt(signature.count)
                status = sign(handle, &input, inputLength, &signature, &length)
                if status == CKR_BUFFER_TOO_SMALL, length <= 1 << 16 {  // the operation stays active: ask again
                    signature = [UInt8](repeating: 0, count: Int(length))
                    status = sign(handle, &input, inputLength, &signature, &length)
                }
                guard status == CKR_OK, length <= UInt(signature.count) else {
                    throw TokenFailure.error(status, token: tokenName, during: "signing")
                }
                return Array(signature.prefix(Int(length)))
            }
        }
        return scheme.padding == .ecdsa ? try DeviceSignature.ecdsaDER(fromRawRS: raw) : raw
    }
}
