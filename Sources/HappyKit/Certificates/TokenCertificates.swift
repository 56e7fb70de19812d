internal import CPKCS11
import FoundationEssentials

/// Finding things on a token with the PKCS#11 API itself (PROTOCOL §6, §7): the tokens a `pkcs11:` URI names, the
/// objects its `object=`/`id=` select, and every certificate on the token (where the OCSP preflight looks for the
/// issuer of a token certificate). The one place both the certificate and the private key are looked up.
enum TokenCertificates {
    /// At most this many objects are read per search.
    static let maximumObjects = 64

    /// The slots whose token has the label, manufacturer, model and serial the URI names (blank-padded fields), with
    /// a name for messages (`token "label"`).
    static func slots(of module: PKCS11Module, matching uri: PKCS11URI) -> [(slot: ck_slot_id_t, name: String)] {
        module.slotsWithTokens().compactMap { slot in
            guard let info = module.tokenInfo(slot) else { return nil }
            func text<T>(_ field: T) -> String {
                withUnsafeBytes(of: field) { String(decoding: $0, as: UTF8.self) }.trimmingWhitespace()
            }
            let fields = [
                ("token", text(info.label)), ("manufacturer", text(info.manufacturer_id)),
                ("model", text(info.model)), ("serial", text(info.serial_number)),
            ]
            guard fields.allSatisfy({ name, value in uri[name].map { $0 == value } ?? true }) else { return nil }
            return (slot, "token \"\(text(info.label))\"")
        }
    }

    /// The objects of `objectClass` (CKO_CERTIFICATE, CKO_PRIVATE_KEY) with the URI's `object=` label and `id=`.
    static func objects(
        _ objectClass: ck_object_class_t, matching uri: PKCS11URI, in session: PKCS11Session
    ) -> [ck_object_handle_t] {
        var label = uri["object"].map { Array($0.utf8) }
        var id = uri.attributes.first { $0.name == "id" }.flatMap { Self.percentDecodedBytes($0.value) }
        var objectClass = objectClass
        return withUnsafeMutableBytes(of: &objectClass) { classBytes in
            var template = [
                ck_attribute(type: CKA_CLASS, value: classBytes.baseAddress, value_len: UInt(classBytes.count))
            ]
            return label.withOptionalBytes { labelBytes in
                if let labelBytes {
                    template.append(
                        ck_attribute(type: CKA_LABEL, value: labelBytes.baseAddress, value_len: UInt(labelBytes.count)))
                }
                return id.withOptionalBytes { idBytes in
                    if let idBytes {
                        template.append(
                            ck_attribute(type: CKA_ID, value: idBytes.baseAddress, value_len: UInt(idBytes.count)))
                    }
                    return find(template, in: session)
                }
            }
        }
    }

    /// The DER of every certificate object on the session's token.
    static func all(in session: PKCS11Session) -> [[UInt8]] {
        var objectClass: ck_object_class_t = CKO_CERTIFICATE
        let found = withUnsafeMutableBytes(of: &objectClass) { raw in
            find(
                [ck_attribute(type: CKA_CLASS, value: raw.baseAddress, value_len: UInt(raw.count))], in: session)
        }
        return found.compactMap { attribute(CKA_VALUE, of: $0, in: session) }
    }

    /// An attribute's bytes (its length asked first); nil when the object does not have it or will not tell.
    static func attribute(_ type: ck_attribute_type_t, of object: ck_object_handle_t, in session: PKCS11Session)
        -> [UInt8]?
    {
        guard let get = session.module.functions.C_GetAttributeValue else { return nil }
        return try? session.withSession { handle -> [UInt8]? in
            var probe = ck_attribute(type: type, value: nil, value_len: 0)
            guard get(handle, object, &probe, 1) == CKR_OK, probe.value_len > 0, probe.value_len < 1 << 20 else {
                return nil
            }
            var bytes = [UInt8](repeating: 0, count: Int(probe.value_len))
            let status = bytes.withUnsafeMutableBytes { raw in
                var attribute = ck_attribute(type: type, value: raw.baseAddress, value_len: UInt(raw.count))
                return get(handle, object, &attribute, 1)
            }
            return status == CKR_OK ? bytes : nil
        }
    }

    private static func find(_ template: [ck_attribute], in session: PKCS11Session) -> [ck_object_handle_t] {
        let functions = session.module.functions
        guard let findInit = functions.C_FindObjectsInit, let find = functions.C_FindObjects,
            let findFinal = functions.C_FindObjectsFinal
        else { return [] }
        var template = template
        let count = UInt(template.count)
        return
            (try? session.withSession { handle -> [ck_object_handle_t] in
                guard findInit(handle, &template, count) == CKR_OK else { return [] }
                defer { _ = findFinal(handle) }
                var handles = [ck_object_handle_t](repeating: 0, count: maximumObjects)
                var count: UInt = 0
                guard find(handle, &handles, UInt(maximumObjects), &count) == CKR_OK else { return [] }
                return Array(handles.prefix(Int(min(count, UInt(maximumObjects)))))
            }) ?? []
    }

    /// `%XX` escapes decoded to bytes (an `id=` may hold any bytes); nil for a malformed escape.
    static func percentDecodedBytes(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var input = text.utf8.makeIterator()
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while let byte = input.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = input.next().flatMap(hex), let low = input.next().flatMap(hex) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}

extension Optional where Wrapped == [UInt8] {
    /// The bytes of the array for the duration of `body`, or nil when there is none.
    fileprivate mutating func withOptionalBytes<R>(_ body: (UnsafeMutableRawBufferPointer?) -> R) -> R {
        guard var bytes = self else { return body(nil) }
        defer { self = bytes }
        return bytes.withUnsafeMutableBytes { body($0) }
    }
}
