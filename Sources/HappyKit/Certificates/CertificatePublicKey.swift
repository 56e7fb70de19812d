internal import COpenSSL
internal import CPKCS11
import FoundationEssentials

/// The public key of a certificate, copied out of libcrypto at once: its kind and size (which signature schemes it
/// can make) and its key material (to check that a device's private key belongs to the certificate).
struct CertificatePublicKey {
    let isEC: Bool
    let bits: Int32
    /// RSA: the modulus, big-endian without leading zeros. EC: the encoded (uncompressed) point.
    let material: [UInt8]

    init(der: [UInt8]) throws {
        defer { OpenSSLErrors.clear() }
        let certificate = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let certificate else { throw HappyError.refused("the certificate on the token cannot be parsed") }
        defer { X509_free(certificate) }
        guard let key = X509_get0_pubkey(certificate) else {
            throw HappyError.refused("the certificate's public key cannot be read")
        }
        try self.init(key: key)
    }

    /// The public part of any EVP_PKEY (a provider's key too: asked by name and parameter, not by legacy id).
    init(key: OpaquePointer) throws {
        defer { OpenSSLErrors.clear() }
        bits = EVP_PKEY_get_bits(key)
        if EVP_PKEY_is_a(key, "EC") == 1 {
            isEC = true
            var length = 0
            guard EVP_PKEY_get_octet_string_param(key, "encoded-pub-key", nil, 0, &length) == 1, length > 0,
                length < 1024
            else { throw HappyError.refused("the certificate's EC public key cannot be read") }
            var point = [UInt8](repeating: 0, count: length)
            guard EVP_PKEY_get_octet_string_param(key, "encoded-pub-key", &point, length, &length) == 1 else {
                throw HappyError.refused("the certificate's EC public key cannot be read")
            }
            material = Array(point.prefix(length))
        } else if EVP_PKEY_is_a(key, "RSA") == 1 {
            isEC = false
            var modulus: OpaquePointer?
            guard EVP_PKEY_get_bn_param(key, "n", &modulus) == 1, let modulus else {
                throw HappyError.refused("the certificate's RSA public key cannot be read")
            }
            defer { BN_free(modulus) }
            var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(modulus) + 7) / 8))
            _ = BN_bn2bin(modulus, &bytes)
            material = Array(bytes.drop { $0 == 0 })
        } else {
            throw HappyError.refused("the certificate's key is neither RSA nor ECDSA, which TLS client login needs")
        }
    }

    /// Whether the token's private key object has this public key (CKA_MODULUS, or CKA_EC_POINT, which modules
    /// store either raw or wrapped in a DER OCTET STRING). A key that does not tell is taken on trust: the server's
    /// check of the handshake signature is the final word.
    func matches(token key: ck_object_handle_t, in session: PKCS11Session) -> Bool {
        if isEC {
            guard let point = TokenCertificates.attribute(CKA_EC_POINT, of: key, in: session) else { return true }
            let wrapped: [UInt8] =
                material.count < 0x80
                ? [0x04, UInt8(material.count)] + material
                : [0x04, 0x81, UInt8(truncatingIfNeeded: material.count)]
                    + material
            return point == material || point == wrapped
        }
        guard let modulus = TokenCertificates.attribute(CKA_MODULUS, of: key, in: session) else { return true }
        return Array(modulus.drop { $0 == 0 }) == material
    }
}
