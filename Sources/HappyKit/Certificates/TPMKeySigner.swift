internal import COpenSSL
import FoundationEssentials
import Glibc

/// A private key held by a TPM 2.0, from a `-----BEGIN TSS2 PRIVATE KEY-----` file (PROTOCOL §7): the file is the key
/// wrapped by that TPM, useless anywhere else. Signs through OpenSSL 3's `tpm2` provider (tpm2-openssl), loaded on
/// demand into a library context of its own beside the default provider; the provider only loads the key and makes
/// the signature, digests are made locally. The provider reaches the TPM as `TPM2OPENSSL_TCTI` says (default: the
/// kernel's resource manager, /dev/tpmrm0). Owns the context, the providers and the key; `close()` or `deinit` frees
/// them. Signing is serialised.
final class TPMKeySigner: DeviceKeySigner, @unchecked Sendable {  // the OpenSSL objects are touched under `lock`
    private let context: OpaquePointer  // OSSL_LIB_CTX *
    private let providers: [OpaquePointer]  // OSSL_PROVIDER *: default, tpm2
    private var key: OpaquePointer?  // EVP_PKEY *, nil once closed
    private let lock = PThreadLock()
    /// The schemes this key supports, best first.
    let schemes: [TokenSignatureScheme]
    /// The key's public part (RSA modulus or EC point), to find its certificate; nil when the provider does not say.
    let publicKey: CertificatePublicKey?

    /// Loads the TSS2 key in `block` of `file` into the TPM that `environment["TPM2OPENSSL_TCTI"]` names. Throws
    /// `refused` (exit 77) with one line naming the TPM when the provider is missing, the TPM is absent, unreachable
    /// or refuses the key. Nothing is sent anywhere else.
    static func load(_ file: CertificateFile, block: PEMBlock, environment: [String: String]) throws -> TPMKeySigner {
        defer { OpenSSLErrors.clear() }
        let tpm =
            environment["TPM2OPENSSL_TCTI"].flatMap { $0.isEmpty ? nil : "the TPM at \($0)" }
            ?? "the TPM (the kernel's resource manager /dev/tpmrm0)"
        guard let context = OSSL_LIB_CTX_new() else { throw HappyError.internalFailure("out of memory") }
        var providers: [OpaquePointer] = []
        var keep = false
        defer {
            if !keep {
                providers.reversed().forEach { _ = OSSL_PROVIDER_unload($0) }
                OSSL_LIB_CTX_free(context)
            }
        }
        guard let defaultProvider = OSSL_PROVIDER_load(context, "default") else {
            throw HappyError.internalFailure("OpenSSL's default provider cannot be loaded")
        }
        providers.append(defaultProvider)
        // The TSS libraries log to stderr by themselves; one line of ours says what failed. A value the user set wins.
        setenv("TSS2_LOG", "all+NONE", 0)
        guard let tpm2 = OSSL_PROVIDER_load(context, "tpm2") else {
            throw HappyError.refused(
                Self.isProviderInstalled
                    ? "\(tpm) cannot be reached (absent, busy or refusing); check TPM2OPENSSL_TCTI and that the TPM "
                        + "is available to this user"
                    : "\(file.path) is a TPM key, and OpenSSL's tpm2 provider is not installed (Debian: apt install "
                        + "tpm2-openssl)")
        }
        providers.append(tpm2)
        // The PEM armour is taken off here and the provider given the DER `TSS2` structure: OpenSSL's own PEM
        // decoders, tried first, do not hand this label on to the provider.
        guard let der = file.bytes.withUnsafeBytes({ block.der(in: $0) }) else {
            throw HappyError.refused("\(file.path) holds a TSS2 PRIVATE KEY block that is not valid base64")
        }
        var key: OpaquePointer?
        guard
            let decoder = OSSL_DECODER_CTX_new_for_pkey(
                &key, "DER", "TSS2", nil, happy_EVP_PKEY_KEYPAIR(), context, nil)
        else { throw HappyError.internalFailure("out of memory") }
        defer { OSSL_DECODER_CTX_free(decoder) }
        let decodedOK = der.withUnsafeBufferPointer { bytes in
            var cursor = bytes.baseAddress
            var left = bytes.count
            return OSSL_DECODER_from_data(decoder, &cursor, &left) == 1
        }
        guard decodedOK, let key else {
            let reason = OpenSSLErrors.take().firstMessage.map { " (\(TerminalText.excerpt($0, limit: 80)))" } ?? ""
            throw HappyError.refused(
                "\(tpm) did not load the key in \(file.path): it was made by another TPM, or the TPM refused it"
                    + reason)
        }
        let publicKey = try? CertificatePublicKey(key: key)
        let signer = TPMKeySigner(context: context, providers: providers, key: key, publicKey: publicKey)
        keep = true
        return signer
    }

    /// Whether tpm2.so is in OpenSSL's modules directory (else a failed load is a missing package, not a TPM).
    private static var isProviderInstalled: Bool {
        guard let directory = OPENSSL_info(OPENSSL_INFO_MODULES_DIR) else { return true }
        return access(String(cString: directory) + "/tpm2.so", F_OK) == 0
    }

    private init(
        context: OpaquePointer, providers: [OpaquePointer], key: OpaquePointer, publicKey: CertificatePublicKey?
    ) {
        self.context = context
        self.providers = providers
        self.key = key
        self.publicKey = publicKey
        let isEC = EVP_PKEY_is_a(key, "EC") == 1
        schemes = TokenSignatureScheme.schemes(isEC: isEC, bits: EVP_PKEY_get_bits(key))
    }

    deinit {
        close()
        providers.reversed().forEach { _ = OSSL_PROVIDER_unload($0) }
        OSSL_LIB_CTX_free(context)
        OpenSSLErrors.clear()
    }

    /// Frees the key (once); later signatures fail. The providers go with the object.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        EVP_PKEY_free(key)
        key = nil
    }

    /// Hashes `data` locally and has the TPM sign the digest (ECDSA comes back DER-encoded from the provider).
    func sign(_ scheme: TokenSignatureScheme, data: [UInt8]) throws -> [UInt8] {
        let digest = try DeviceSignature.digest(scheme.hash, data)
        lock.lock()
        defer {
            lock.unlock()
            OpenSSLErrors.clear()
        }
        guard let key else { throw HappyError.refused("the TPM key is already closed") }
        // The tpm2 provider signs: the default one would be handed only the public half of the key.
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(context, key, "provider=tpm2") else {
            throw HappyError.internalFailure("out of memory")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        let md: OpaquePointer? =
            switch scheme.hash {
            case .sha256: EVP_sha256()
            case .sha384: EVP_sha384()
            case .sha512: EVP_sha512()
            }
        guard EVP_PKEY_sign_init(ctx) == 1, EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 else {
            throw Self.refusal(OpenSSLErrors.take())
        }
        switch scheme.padding {
        case .pkcs1:
            guard EVP_PKEY_CTX_set_rsa_padding(ctx, happy_RSA_PKCS1_PADDING()) == 1 else {
                throw Self.refusal(OpenSSLErrors.take())
            }
        case .pss:
            guard EVP_PKEY_CTX_set_rsa_padding(ctx, happy_RSA_PKCS1_PSS_PADDING()) == 1,
                EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, happy_RSA_PSS_SALTLEN_DIGEST()) == 1,
                EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1
            else { throw Self.refusal(OpenSSLErrors.take()) }
        case .ecdsa:
            break
        }
        var length = 0
        guard EVP_PKEY_sign(ctx, nil, &length, digest, digest.count) == 1, length > 0, length <= 1 << 16 else {
            throw Self.refusal(OpenSSLErrors.take())
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_PKEY_sign(ctx, &signature, &length, digest, digest.count) == 1 else {
            throw Self.refusal(OpenSSLErrors.take())
        }
        return Array(signature.prefix(length))
    }

    private static func refusal(_ errors: OpenSSLErrors) -> HappyError {
        .refused("the TPM refused to sign (\(errors.firstMessage ?? "no reason given"))")
    }
}
