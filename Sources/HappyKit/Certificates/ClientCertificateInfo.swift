internal import COpenSSL
import FoundationEssentials
import Glibc

/// What `happy` shows and checks about a client certificate before using it for mTLS login (PROTOCOL §2): the same
/// normalized shape a server or proxy derives from the certificate it receives. Public data only; no key material.
public struct ClientCertificateInfo: Sendable, Equatable, Codable {
    /// RFC 2253 order, most specific first: `CN=Alice Example,O=Happy Test` (UTF-8 kept readable).
    public var subjectDN: String
    public var subjectCN: String?
    public var issuerDN: String
    public var issuerCN: String?
    /// Uppercase hex of the serial number's magnitude, as `openssl x509 -serial` prints it.
    public var serialNumber: String
    /// SHA-256 of the DER certificate: uppercase hex, no separators.
    public var fingerprint256: String
    /// In certificate order, typed as `email:…`, `UPN:…`, `DNS:…`, `URI:…`, `IP:…`; other kinds are left out.
    public var subjectAltNames: [String]
    public var notBefore: Date
    public var notAfter: Date

    /// The account identity the server will most likely derive (PROTOCOL §2): the first SAN e-mail, else the first
    /// SAN UPN (both lower-cased), else the subject CN, else the fingerprint; `source` is `san_email`, `san_upn`,
    /// `subject_cn` or `fingerprint`.
    public var likelyIdentity: (value: String, source: String) {
        if let email = alternativeNames(ofKind: "email").first { return (email.lowercased(), "san_email") }
        if let upn = alternativeNames(ofKind: "UPN").first { return (upn.lowercased(), "san_upn") }
        if let cn = subjectCN, !cn.isEmpty { return (cn, "subject_cn") }
        return (fingerprint256, "fingerprint")
    }

    /// Values of one kind of subject alternative name, without the `kind:` prefix.
    public func alternativeNames(ofKind kind: String) -> [String] {
        subjectAltNames.compactMap { $0.hasPrefix(kind + ":") ? String($0.dropFirst(kind.count + 1)) : nil }
    }

    /// Parses one DER-encoded X.509 certificate.
    public init(derEncoded der: [UInt8]) throws {
        try LazyCrypto.load()
        let parsed = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let certificate = parsed else {
            OpenSSLErrors.clear()
            throw HappyError.refused("the client certificate cannot be parsed (not DER X.509)")
        }
        defer { X509_free(certificate) }
        subjectDN = try Self.distinguishedName(X509_get_subject_name(certificate))
        subjectCN = Self.commonName(X509_get_subject_name(certificate))
        issuerDN = try Self.distinguishedName(X509_get_issuer_name(certificate))
        issuerCN = Self.commonName(X509_get_issuer_name(certificate))
        serialNumber = try Self.serialNumber(certificate)
        fingerprint256 = try Self.fingerprint(certificate)
        subjectAltNames = Self.alternativeNames(certificate)
        notBefore = try Self.date(X509_get0_notBefore(certificate), "notBefore")
        notAfter = try Self.date(X509_get0_notAfter(certificate), "notAfter")
    }

    private static func distinguishedName(_ name: OpaquePointer?) throws -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { throw HappyError.internalFailure("out of memory") }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, happy_XN_FLAG_RFC2253_UTF8()) >= 0 else {
            OpenSSLErrors.clear()
            throw HappyError.refused("the client certificate has an unreadable subject or issuer name")
        }
        var data: UnsafeMutablePointer<CChar>?
        let length = happy_BIO_get_mem_data(bio, &data)
        guard length > 0, let data else { return "" }
        return data.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// The first CN attribute in DER order (the usual single CN).
    private static func commonName(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index) else { return nil }
        return utf8(X509_NAME_ENTRY_get_data(entry))
    }

    /// Any ASN.1 string type converted to UTF-8; nil when OpenSSL cannot convert it.
    private static func utf8(_ string: UnsafePointer<ASN1_STRING>?) -> String? {
        guard let string else { return nil }
        var out: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&out, string)
        guard length >= 0, let out else {
            OpenSSLErrors.clear()
            return nil
        }
        defer { happy_openssl_free(out) }
        return String(decoding: UnsafeBufferPointer(start: out, count: Int(length)), as: UTF8.self)
    }

    private static func serialNumber(_ certificate: OpaquePointer) throws -> String {
        guard let number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nil) else {
            OpenSSLErrors.clear()
            throw HappyError.refused("the client certificate has an unreadable serial number")
        }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { throw HappyError.internalFailure("out of memory") }
        defer { happy_openssl_free(hex) }
        let text = String(cString: hex)
        return text == "0" ? "00" : text  // `openssl x509 -serial` prints whole bytes
    }

    private static func fingerprint(_ certificate: OpaquePointer) throws -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1, length == 32 else {
            OpenSSLErrors.clear()
            throw HappyError.internalFailure("SHA-256 of the client certificate failed")
        }
        return digest.prefix(Int(length)).map(\.hexUppercased).joined()
    }

    private static func alternativeNames(_ certificate: OpaquePointer) -> [String] {
        // nil both when there is no SAN extension and when it does not decode; either way there are no names
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else {
            OpenSSLErrors.clear()
            return []
        }
        let names = OpaquePointer(raw)
        defer { happy_GENERAL_NAMES_free(names) }
        return (0..<happy_sk_GENERAL_NAME_num(names)).compactMap { index in
            guard let name = happy_sk_GENERAL_NAME_value(names, index) else { return nil }
            return describe(name.pointee)
        }
    }

    private static func describe(_ name: GENERAL_NAME) -> String? {
        switch name.type {
        case GEN_EMAIL: ia5(name.d.rfc822Name).map { "email:" + $0 }
        case GEN_DNS: ia5(name.d.dNSName).map { "DNS:" + $0 }
        case GEN_URI: ia5(name.d.uniformResourceIdentifier).map { "URI:" + $0 }
        case GEN_IPADD: ipAddress(name.d.iPAddress).map { "IP:" + $0 }
        case GEN_OTHERNAME: userPrincipalName(name.d.otherName).map { "UPN:" + $0 }
        default: nil
        }
    }

    private static func ia5(_ string: UnsafeMutablePointer<ASN1_STRING>?) -> String? {
        guard let string, let bytes = ASN1_STRING_get0_data(string) else { return nil }
        let length = Int(ASN1_STRING_length(string))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    /// Microsoft's UPN other-name (OID 1.3.6.1.4.1.311.20.2.3, a UTF8String); other other-names are skipped.
    private static func userPrincipalName(_ otherName: UnsafeMutablePointer<OTHERNAME>?) -> String? {
        guard let otherName, OBJ_obj2nid(otherName.pointee.type_id) == NID_ms_upn,
            let value = otherName.pointee.value, value.pointee.type == V_ASN1_UTF8STRING
        else { return nil }
        return utf8(value.pointee.value.utf8string)
    }

    private static func ipAddress(_ string: UnsafeMutablePointer<ASN1_STRING>?) -> String? {
        guard let string, let bytes = ASN1_STRING_get0_data(string) else { return nil }
        let length = Int(ASN1_STRING_length(string))
        let family: Int32
        switch length {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, bytes, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func date(_ time: UnsafePointer<ASN1_TIME>?, _ field: String) throws -> Date {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else {
            OpenSSLErrors.clear()
            throw HappyError.refused("the client certificate has an unreadable \(field) date")
        }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
