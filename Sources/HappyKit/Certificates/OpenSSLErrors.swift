internal import COpenSSL

/// What the thread's OpenSSL error queue says about the last failure, read and cleared in one go, so that a failed
/// attempt never leaves stale errors behind for the next OpenSSL call.
struct OpenSSLErrors {
    /// An algorithm the loaded providers do not offer, e.g. RC2 in a legacy PKCS#12 without the legacy provider.
    var isUnsupportedAlgorithm = false
    /// Decryption failed: in practice a wrong password.
    var isBadDecrypt = false
    /// The first error's text ("error:…:reason"), for internal failures only; never contains key material.
    var firstMessage: String?

    /// Drains the queue.
    static func take() -> OpenSSLErrors {
        var result = OpenSSLErrors()
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            let library = happy_ERR_GET_LIB(code)
            let reason = happy_ERR_GET_REASON(code)
            if result.firstMessage == nil {
                var text = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &text, text.count)
                let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
                result.firstMessage = String(decoding: bytes, as: UTF8.self)
            }
            switch (library, reason) {
            case (_, happy_ERR_R_UNSUPPORTED()), (_, happy_ERR_R_FETCH_FAILED()),
                (ERR_LIB_EVP, EVP_R_UNSUPPORTED_ALGORITHM), (ERR_LIB_EVP, EVP_R_UNSUPPORTED_CIPHER),
                (ERR_LIB_EVP, EVP_R_UNSUPPORTED_KEY_DERIVATION_FUNCTION), (ERR_LIB_EVP, EVP_R_UNKNOWN_CIPHER):
                result.isUnsupportedAlgorithm = true
            case (ERR_LIB_EVP, EVP_R_BAD_DECRYPT), (ERR_LIB_PROV, PROV_R_BAD_DECRYPT), (ERR_LIB_PEM, PEM_R_BAD_DECRYPT),
                (ERR_LIB_PKCS12, PKCS12_R_PKCS12_CIPHERFINAL_ERROR), (ERR_LIB_PKCS12, PKCS12_R_MAC_VERIFY_FAILURE):
                result.isBadDecrypt = true
            default:
                break
            }
        }
        return result
    }

    /// Clears the queue when the errors do not matter (an expected failure, such as probing a format).
    static func clear() { ERR_clear_error() }
}

/// OpenSSL 3 keeps RC2 and other old PKCS#12 algorithms in its "legacy" provider, which is not loaded by default.
enum LegacyProvider {
    /// Loads the legacy provider, and "default" next to it (explicitly loading any provider switches off the implicit
    /// default one), once per process. False when the legacy module is not installed. The providers stay loaded for
    /// the life of the process: unloading them while other code may hold their algorithms is not safe.
    static let isLoaded: Bool = {
        guard OSSL_PROVIDER_load(nil, "legacy") != nil else {
            OpenSSLErrors.clear()
            return false
        }
        guard OSSL_PROVIDER_load(nil, "default") != nil else {
            OpenSSLErrors.clear()
            return false
        }
        return true
    }()
}
