import Crypto
import Hummingbird
import SwiftASN1
import X509

/// What the server knows about a client certificate, from the TLS handshake (direct mode) or from a proxy's
/// identity headers (forwarded mode). Values are normalized: e-mail and UPN lower-cased, fingerprint lower-case hex.
struct ClientCertificateFacts: Equatable {
    var email: String?
    var upn: String?
    var subjectCN: String?
    var fingerprint: String?
    /// Normalized issuer components (`DistinguishedNameText`), nil when unknown.
    var issuer: [String]?

    var isEmpty: Bool { email == nil && upn == nil && subjectCN == nil && fingerprint == nil }

    /// The Microsoft UPN other-name (szOID_NT_PRINCIPAL_NAME).
    static let upnOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 311, 20, 2, 3]

    /// Facts from a verified peer certificate in DER.
    init(der: [UInt8]) throws {
        let certificate = try Certificate(derEncoded: der)
        for name in try certificate.extensions.subjectAlternativeNames ?? SubjectAlternativeNames() {
            switch name {
            case .rfc822Name(let address) where email == nil:
                email = address.lowercased()
            case .otherName(let other) where upn == nil && other.typeID == Self.upnOID:
                if let value = other.value, let text = try? ASN1UTF8String(asn1Any: value) {
                    upn = String(text).lowercased()
                }
            default:
                break
            }
        }
        subjectCN = certificate.subject.lazy.flatMap { $0 }
            .first { $0.type == .RDNAttributeType.commonName }
            .flatMap { String($0.value) }
        fingerprint = SHA256.hash(data: der).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        issuer = certificate.issuer.flatMap { $0 }.map { DistinguishedNameText.normalize(String(describing: $0)) }
    }

    /// Facts a TLS-terminating proxy forwarded; nil when it forwarded nothing usable.
    init?(headers: HTTPFields, names: ForwardedHeaderNames) {
        func value(_ name: String) -> String? {
            let lowered = name.lowercased()
            guard let raw = headers.first(where: { $0.name.canonicalName == lowered })?.value.trimmingWhitespace(),
                !raw.isEmpty
            else { return nil }
            return raw
        }
        email = value(names.email)?.lowercased()
        upn = value(names.upn)?.lowercased()
        if let subject = value(names.subject) {
            let components = DistinguishedNameText.split(subject)
            let cn = components.first { DistinguishedNameText.key(of: $0) == "cn" }
            subjectCN =
                cn.map { String($0.drop { $0 != "=" }.dropFirst()).trimmingWhitespace() }
                ?? (components.allSatisfy { DistinguishedNameText.key(of: $0) == nil } ? subject : nil)
        }
        fingerprint = value(names.fingerprint).map { String($0.lowercased().filter(\.isHexDigit)) }
        issuer = value(names.issuer).map(DistinguishedNameText.components)
        if isEmpty { return nil }
    }

    /// The account identity (PROTOCOL §2): the configured source first, then SAN e-mail or UPN, then subject CN,
    /// then the fingerprint. Lower-cased, so comparisons ignore case.
    func identity(preferring source: MTLSSettings.IdentitySource) -> String? {
        let ordered: [String?]
        switch source {
        case .sanEmail: ordered = [email, upn, subjectCN, fingerprint]
        case .sanUPN: ordered = [upn, email, subjectCN, fingerprint]
        case .subjectCN: ordered = [subjectCN, fingerprint]
        case .fingerprint: ordered = [fingerprint]
        }
        return ordered.lazy.compactMap { $0 }.first?.lowercased()
    }

    /// The e-mail-like name whose domain the allow-list checks.
    func principal(preferring source: MTLSSettings.IdentitySource) -> String? {
        source == .sanUPN ? upn ?? email : email ?? upn
    }
}
