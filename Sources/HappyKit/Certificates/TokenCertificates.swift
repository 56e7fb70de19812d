internal import CPKCS11
import FoundationEssentials
import Glibc

/// The certificate objects on a token, read with the PKCS#11 API itself (the OpenSSL engine only finds one object per
/// URI): the place the OCSP preflight looks for the issuer of a token certificate (PROTOCOL §6). Only public objects
/// are read, in a session without login; no PIN is involved. Any failure just means "none found". Runs before the
/// engine opens the module and finalizes what it initialized, so the two never share a PKCS#11 initialization.
enum TokenCertificates {
    /// At most this many certificate objects are read per token.
    static let maximumObjects = 64

    /// The DER of every certificate object on the tokens `uri` names (token label, manufacturer, model, serial).
    static func all(uri: PKCS11URI, modulePath: String) -> [[UInt8]] {
        guard let handle = dlopen(modulePath, RTLD_NOW | RTLD_LOCAL) else { return [] }
        defer { dlclose(handle) }
        guard let symbol = dlsym(handle, "C_GetFunctionList") else { return [] }
        typealias GetFunctionList =
            @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<ck_function_list>?>?)
            -> ck_rv_t
        var listPointer: UnsafeMutablePointer<ck_function_list>?
        guard unsafeBitCast(symbol, to: GetFunctionList.self)(&listPointer) == CKR_OK,
            let list = listPointer?.pointee, let initialize = list.C_Initialize, let finalize = list.C_Finalize
        else { return [] }
        var arguments = ck_c_initialize_args()
        arguments.flags = CKF_OS_LOCKING_OK
        let initialized = initialize(&arguments)
        guard initialized == CKR_OK || initialized == CKR_CRYPTOKI_ALREADY_INITIALIZED else { return [] }
        defer { if initialized == CKR_OK { _ = finalize(nil) } }
        return slots(list).filter { matches(list, slot: $0, uri) }.flatMap { certificates(list, slot: $0) }
    }

    private static func slots(_ list: ck_function_list) -> [ck_slot_id_t] {
        guard let getSlots = list.C_GetSlotList else { return [] }
        var count: UInt = 0
        guard getSlots(1, nil, &count) == CKR_OK, count > 0, count < 1024 else { return [] }
        var slots = [ck_slot_id_t](repeating: 0, count: Int(count))
        guard getSlots(1, &slots, &count) == CKR_OK else { return [] }
        return Array(slots.prefix(Int(count)))
    }

    /// Whether the token in `slot` has the label, manufacturer, model and serial the URI names (blank-padded fields).
    private static func matches(_ list: ck_function_list, slot: ck_slot_id_t, _ uri: PKCS11URI) -> Bool {
        guard let getInfo = list.C_GetTokenInfo else { return false }
        var info = ck_token_info()
        guard getInfo(slot, &info) == CKR_OK else { return false }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0, as: UTF8.self) }.trimmingWhitespace()
        }
        let fields = [
            ("token", text(info.label)), ("manufacturer", text(info.manufacturer_id)),
            ("model", text(info.model)), ("serial", text(info.serial_number)),
        ]
        return fields.allSatisfy { name, value in uri[name].map { $0 == value } ?? true }
    }

    private static func certificates(_ list: ck_function_list, slot: ck_slot_id_t) -> [[UInt8]] {
        guard let open = list.C_OpenSession, let close = list.C_CloseSession, let findInit = list.C_FindObjectsInit,
            let find = list.C_FindObjects, let findFinal = list.C_FindObjectsFinal
        else { return [] }
        var session: ck_session_handle_t = 0
        guard open(slot, CKF_SERIAL_SESSION, nil, nil, &session) == CKR_OK else { return [] }
        defer { _ = close(session) }
        var objectClass: ck_object_class_t = CKO_CERTIFICATE
        let found: [ck_object_handle_t] = withUnsafeMutableBytes(of: &objectClass) { raw in
            var template = ck_attribute(type: CKA_CLASS, value: raw.baseAddress, value_len: UInt(raw.count))
            guard findInit(session, &template, 1) == CKR_OK else { return [] }
            defer { _ = findFinal(session) }
            var handles = [ck_object_handle_t](repeating: 0, count: maximumObjects)
            var count: UInt = 0
            guard find(session, &handles, UInt(maximumObjects), &count) == CKR_OK else { return [] }
            return Array(handles.prefix(Int(min(count, UInt(maximumObjects)))))
        }
        return found.compactMap { value(list, session: session, object: $0) }
    }

    /// CKA_VALUE of a certificate object (its DER), asked for its length first.
    private static func value(_ list: ck_function_list, session: ck_session_handle_t, object: ck_object_handle_t)
        -> [UInt8]?
    {
        guard let get = list.C_GetAttributeValue else { return nil }
        var probe = ck_attribute(type: CKA_VALUE, value: nil, value_len: 0)
        guard get(session, object, &probe, 1) == CKR_OK, probe.value_len > 0, probe.value_len < 1 << 20 else {
            return nil
        }
        var bytes = [UInt8](repeating: 0, count: Int(probe.value_len))
        let status = bytes.withUnsafeMutableBytes { raw in
            var attribute = ck_attribute(type: CKA_VALUE, value: raw.baseAddress, value_len: UInt(raw.count))
            return get(session, object, &attribute, 1)
        }
        return status == CKR_OK ? bytes : nil
    }
}
