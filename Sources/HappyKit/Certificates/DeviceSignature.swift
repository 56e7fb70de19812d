internal import COpenSSL
import FoundationEssentials

/// A TLS signature scheme a device key can make (RFC 8446 names); the transport maps NIOSSL's algorithms onto these.
enum TokenSignatureScheme: Sendable, CaseIterable {
    case ecdsaSHA256, ecdsaSHA384, ecdsaSHA512
    case rsaPKCS1SHA256, rsaPKCS1SHA384, rsaPKCS1SHA512
    case rsaPSSSHA256, rsaPSSSHA384, rsaPSSSHA512

    /// The digest the scheme signs.
    enum Hash: Sendable { case sha256, sha384, sha512 }
    /// How the digest becomes a signature.
    enum Padding: Sendable { case ecdsa, pkcs1, pss }

    var hash: Hash {
        switch self {
        case .ecdsaSHA256, .rsaPKCS1SHA256, .rsaPSSSHA256: .sha256
        case .ecdsaSHA384, .rsaPKCS1SHA384, .rsaPSSSHA384: .sha384
        case .ecdsaSHA512, .rsaPKCS1SHA512, .rsaPSSSHA512: .sha512
        }
    }

    var padding: Padding {
        switch self {
        case .ecdsaSHA256, .ecdsaSHA384, .ecdsaSHA512: .ecdsa
        case .rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512: .pkcs1
        case .rsaPSSSHA256, .rsaPSSSHA384, .rsaPSSSHA512: .pss
        }
    }

    /// The schemes a key of this kind can make, best first: ECDSA is tied to its curve's hash (TLS 1.3); RSA offers
    /// PSS (TLS 1.3 requires it) and PKCS#1 v1.5 (TLS 1.2) when the device can make them.
    static func schemes(isEC: Bool, bits: Int32, pss: Bool = true, pkcs1: Bool = true) -> [TokenSignatureScheme] {
        if isEC {
            switch bits {
            case 384: return [.ecdsaSHA384]
            case 521: return [.ecdsaSHA512]
            default: return [.ecdsaSHA256]
            }
        }
        return (pss ? [.rsaPSSSHA256, .rsaPSSSHA384, .rsaPSSSHA512] : [])
            + (pkcs1 ? [.rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512] : [])
    }
}

/// A private key held by a device (a PKCS#11 token or a TPM) that signs TLS handshakes; `TokenPrivateKey` hands it
/// NIOSSL's requests. Implementations serialise their own calls.
protocol DeviceKeySigner: AnyObject, Sendable {
    /// The schemes this key supports, best first.
    var schemes: [TokenSignatureScheme] { get }
    /// The signature over `data` in TLS form (ECDSA: DER `ECDSA-Sig-Value`).
    func sign(_ scheme: TokenSignatureScheme, data: [UInt8]) throws -> [UInt8]
    /// Releases the device (session, provider); later signatures fail.
    func close()
}

/// The byte plumbing around a device signature: local digests, PKCS#1 DigestInfo, ECDSA r||s → DER.
enum DeviceSignature {
    /// `data` hashed with libcrypto's default provider (never on the device).
    static func digest(_ hash: TokenSignatureScheme.Hash, _ data: [UInt8]) throws -> [UInt8] {
        let md: OpaquePointer? =
            switch hash {
            case .sha256: EVP_sha256()
            case .sha384: EVP_sha384()
            case .sha512: EVP_sha512()
            }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard let md, EVP_Digest(data, data.count, &digest, &length, md, nil) == 1 else {
            OpenSSLErrors.clear()
            throw HappyError.internalFailure("cannot hash the TLS handshake")
        }
        return Array(digest.prefix(Int(length)))
    }

    /// The DER DigestInfo prefix (RFC 8017 §9.2 note 1) that `CKM_RSA_PKCS` signs in front of the digest.
    static func digestInfoPrefix(_ hash: TokenSignatureScheme.Hash) -> [UInt8] {
        let (last, length): (UInt8, UInt8) =
            switch hash {
            case .sha256: (0x01, 0x20)
            case .sha384: (0x02, 0x30)
            case .sha512: (0x03, 0x40)
            }
        return [0x30, 0x11 + length, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, last]
            + [0x05, 0x00, 0x04, length]
    }

    /// PKCS#11's ECDSA signature (r||s, two equal halves) as the DER `ECDSA-Sig-Value` TLS carries.
    static func ecdsaDER(fromRawRS raw: [UInt8]) throws -> [UInt8] {
        guard !raw.isEmpty, raw.count.isMultiple(of: 2), raw.count <= 264 else {
            throw HappyError.refused("the device returned a malformed ECDSA signature (\(raw.count) bytes)")
        }
        let half = raw.count / 2
        let body = integer(raw[..<half]) + integer(raw[half...])
        return [0x30] + length(body.count) + body
    }

    private static func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var value = Array(bytes.drop { $0 == 0 })
        if value.isEmpty { value = [0] }
        if value[0] & 0x80 != 0 { value.insert(0, at: 0) }  // INTEGER is signed: keep it positive
        return [0x02] + length(value.count) + value
    }

    private static func length(_ count: Int) -> [UInt8] {
        count < 0x80 ? [UInt8(count)] : [0x81, UInt8(truncatingIfNeeded: count)]  // count < 256 here
    }
}
