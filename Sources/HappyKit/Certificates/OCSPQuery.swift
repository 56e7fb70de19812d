internal import COpenSSL
import FoundationEssentials

/// What an OCSP responder said about a certificate, once its answer was verified (PROTOCOL §6).
public enum RevocationStatus: Equatable, Sendable {
    case good
    /// Revoked at that time (nil when the answer carried none), for that reason (RFC 5280 name, e.g. keyCompromise).
    case revoked(at: Date?, reason: String)
    /// The responder does not know the certificate, or its answer could not be trusted; the reason, in words.
    case unknown(String)
}

/// One OCSP question about a leaf certificate (RFC 6960), built and checked with OpenSSL's OCSP API: the request
/// (SHA-1 certificate ID, a fresh nonce) as DER, and the evaluation of the responder's DER answer — response status,
/// signature (verified against the issuer, directly or through a responder certificate it issued), nonce, freshness,
/// and the certificate's status. Owns its OpenSSL objects; none leaves this file. Certificates come in as DER.
final class OCSPQuery {
    /// The first OCSP responder URL in the leaf's Authority Information Access extension; nil when there is none.
    let responderURL: String?
    /// The DER `OCSPRequest` to POST (Content-Type `application/ocsp-request`).
    let requestDER: [UInt8]

    private let leaf: OpaquePointer  // X509 *
    private let issuer: OpaquePointer  // X509 *
    private let request: OpaquePointer  // OCSP_REQUEST *
    private let certificateID: OpaquePointer  // OCSP_CERTID *, owned here (the request holds its own copy)

    init(leafDER: [UInt8], issuerDER: [UInt8]) throws {
        try LazyCrypto.load()
        guard let leaf = Self.x509(leafDER) else { throw HappyError.internalFailure("cannot parse the certificate") }
        guard let issuer = Self.x509(issuerDER) else {
            X509_free(leaf)
            throw HappyError.internalFailure("cannot parse the issuer certificate")
        }
        guard let id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer), let request = OCSP_REQUEST_new() else {
            X509_free(leaf)
            X509_free(issuer)
            OpenSSLErrors.clear()
            throw HappyError.internalFailure("cannot build the OCSP request")
        }
        self.leaf = leaf
        self.issuer = issuer
        self.request = request
        self.certificateID = id
        responderURL = Self.responderURL(of: leaf)
        // add0 hands ownership of the ID to the request, so give it a copy and keep ours for the lookup.
        guard let copy = OCSP_CERTID_dup(id), OCSP_request_add0_id(request, copy) != nil,
            OCSP_request_add1_nonce(request, nil, -1) == 1
        else {
            OpenSSLErrors.clear()
            throw HappyError.internalFailure("cannot build the OCSP request")
        }
        let length = i2d_OCSP_REQUEST(request, nil)
        guard length > 0 else { throw HappyError.internalFailure("cannot encode the OCSP request") }
        requestDER = try [UInt8](unsafeUninitializedCapacity: Int(length)) { buffer, count in
            var cursor = buffer.baseAddress
            guard i2d_OCSP_REQUEST(request, &cursor) == length else {
                throw HappyError.internalFailure("cannot encode the OCSP request")
            }
            count = Int(length)
        }
    }

    deinit {
        OCSP_REQUEST_free(request)
        OCSP_CERTID_free(certificateID)
        X509_free(leaf)
        X509_free(issuer)
        OpenSSLErrors.clear()
    }

    /// How old an answer without `nextUpdate` may be (its `thisUpdate`, beyond the clock skew). RFC 6960 reads a
    /// missing nextUpdate as "newer information is always available", so such an answer is only as good as it is
    /// fresh: without this bound, a "good" captured before the revocation could be replayed for ever (OpenSSL's
    /// `-status_age`).
    static let maximumAgeWithoutNextUpdate = 3600

    /// The verified meaning of a responder's DER answer. Anything that cannot be trusted is `.unknown` with a reason:
    /// a bad signature, a nonce not ours, an answer past its nextUpdate, or without one older than
    /// `maximumAgeWithoutNextUpdate`. `requireProvenFreshness` (strict) also wants the answer to prove it was made for
    /// this request or within a stated validity: our nonce echoed, or a nextUpdate.
    func evaluate(responseDER: [UInt8], clockSkewSeconds: Int = 300, requireProvenFreshness: Bool = false)
        -> RevocationStatus
    {
        defer { OpenSSLErrors.clear() }
        let parsed = responseDER.withUnsafeBytes { raw -> OpaquePointer? in
            var cursor = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) as UnsafePointer<UInt8>?
            return d2i_OCSP_RESPONSE(nil, &cursor, raw.count)
        }
        guard let response = parsed else { return .unknown("the responder's answer is not an OCSP response") }
        defer { OCSP_RESPONSE_free(response) }
        let status = OCSP_response_status(response)
        guard status == happy_OCSP_RESPONSE_STATUS_SUCCESSFUL() else {
            let text = OCSP_response_status_str(Int(status)).map { String(cString: $0) } ?? "\(status)"
            return .unknown("the responder answered \"\(text)\"")
        }
        guard let basic = OCSP_response_get1_basic(response) else {
            return .unknown("the answer holds no basic response")
        }
        defer { OCSP_BASICRESP_free(basic) }
        // 1: our nonce came back; 2 or -1: no nonce in the answer (pre-signed responses); 0: a different nonce.
        let nonce = OCSP_check_nonce(request, basic)
        guard nonce != 0 else {
            return .unknown("the answer's nonce is not ours (a replay?)")
        }
        guard verifySignature(basic) else {
            return .unknown("the answer's signature does not verify against the issuer")
        }

        var certStatus: Int32 = -1
        var reason: Int32 = -1
        var revokedAt: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?
        var thisUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?
        var nextUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?
        guard
            OCSP_resp_find_status(basic, certificateID, &certStatus, &reason, &revokedAt, &thisUpdate, &nextUpdate) == 1
        else { return .unknown("the answer does not mention this certificate") }
        // A verified "revoked" stands however old it is: a revocation is never undone.
        if certStatus == happy_V_OCSP_CERTSTATUS_REVOKED() {
            let name =
                reason >= 0
                ? OCSP_crl_reason_str(Int(reason)).map { String(cString: $0) } ?? "unspecified" : "unspecified"
            return .revoked(at: revokedAt.flatMap(Self.date), reason: name)
        }
        let maximumAge = nextUpdate == nil ? Self.maximumAgeWithoutNextUpdate : -1
        guard OCSP_check_validity(thisUpdate, nextUpdate, clockSkewSeconds, maximumAge) == 1 else {
            return .unknown(
                nextUpdate == nil
                    ? "the answer is stale (made more than \(Self.maximumAgeWithoutNextUpdate / 60) minutes ago, with "
                        + "no nextUpdate) or not yet valid"
                    : "the answer is stale (past its nextUpdate) or not yet valid")
        }
        if requireProvenFreshness, nonce != 1, nextUpdate == nil {
            return .unknown("the answer carries neither our nonce nor a nextUpdate, so its freshness is unproven")
        }
        switch certStatus {
        case happy_V_OCSP_CERTSTATUS_GOOD():
            return .good
        default:
            return .unknown("the responder does not know this certificate")
        }
    }

    /// `OCSP_basic_verify` with the issuer as the only trust anchor (partial chains allowed, since the issuer may be an
    /// intermediate): accepts answers signed by the issuer itself or by a responder certificate it issued for OCSP.
    private func verifySignature(_ basic: OpaquePointer) -> Bool {
        guard let store = X509_STORE_new() else { return false }
        defer { X509_STORE_free(store) }
        guard X509_STORE_add_cert(store, issuer) == 1,
            X509_STORE_set_flags(store, UInt(X509_V_FLAG_PARTIAL_CHAIN)) == 1,
            let certificates = happy_sk_X509_new_null()
        else { return false }
        defer { happy_sk_X509_free(certificates) }  // the stack only borrows `issuer`
        guard happy_sk_X509_push(certificates, issuer) > 0 else { return false }
        return OCSP_basic_verify(basic, certificates, store, 0) == 1
    }

    /// The certificate among `candidates` (DER) that issued `leafDER`: names and key identifiers match, and its key
    /// verifies the leaf's signature. Nil when none did.
    static func issuer(of leafDER: [UInt8], among candidates: [[UInt8]]) -> [UInt8]? {
        guard let leaf = x509(leafDER) else { return nil }
        defer {
            X509_free(leaf)
            OpenSSLErrors.clear()
        }
        for candidate in candidates {
            guard let parsed = x509(candidate) else { continue }
            defer { X509_free(parsed) }
            guard X509_check_issued(parsed, leaf) == X509_V_OK, let key = X509_get0_pubkey(parsed) else { continue }
            if X509_verify(leaf, key) == 1 { return candidate }
        }
        return nil
    }

    /// Every certificate in a PEM file (the `--ca` bundle, another place an issuer may be found), as DER; empty when
    /// the file cannot be read.
    static func certificates(inPEMFile path: String) -> [[UInt8]] {
        // Only a regular file of at most 1 MiB (a FIFO given as --ca must not hang the login).
        guard let pem = try? BoundedFile.read(path), !pem.isEmpty,
            let bio = pem.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) })
        else {
            OpenSSLErrors.clear()
            return []
        }
        defer {
            withExtendedLifetime(pem) {}  // the memory BIO reads `pem` in place
            BIO_free(bio)
            OpenSSLErrors.clear()
        }
        var result: [[UInt8]] = []
        while result.count < 1000, let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
            defer { X509_free(certificate) }
            let length = i2d_X509(certificate, nil)
            guard length > 0 else { continue }
            var der = [UInt8](repeating: 0, count: Int(length))
            der.withUnsafeMutableBufferPointer { buffer in
                var cursor = buffer.baseAddress
                _ = i2d_X509(certificate, &cursor)
            }
            result.append(der)
        }
        return result
    }

    /// The first OCSP responder URL in the AIA extension of a DER certificate; nil when there is none.
    static func responderURL(leafDER: [UInt8]) -> String? {
        guard let leaf = x509(leafDER) else { return nil }
        defer { X509_free(leaf) }
        return responderURL(of: leaf)
    }

    private static func responderURL(of leaf: OpaquePointer) -> String? {
        guard let urls = X509_get1_ocsp(leaf) else { return nil }
        defer { X509_email_free(urls) }
        guard happy_sk_OPENSSL_STRING_num(urls) > 0, let first = happy_sk_OPENSSL_STRING_value(urls, 0) else {
            return nil
        }
        return String(cString: first)
    }

    private static func x509(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBytes { raw in
            var cursor = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) as UnsafePointer<UInt8>?
            return d2i_X509(nil, &cursor, raw.count)
        }
    }

    private static func date(_ time: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>) -> Date? {
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
