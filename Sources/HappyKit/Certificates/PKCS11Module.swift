internal import CPKCS11
import FoundationEssentials
import Glibc

/// A PKCS#11 module (`--pkcs11-module`, `HAPPY_PKCS11_MODULE` or p11-kit's proxy), loaded with `dlopen` and
/// initialised once for a login (PROTOCOL §7). `finalize()` (or `deinit`) calls `C_Finalize` when this object was the
/// one that initialised the module. The module stays mapped: modules register atexit handlers and thread destructors
/// that must not outlive their code.
final class PKCS11Module: @unchecked Sendable {  // `isFinalized` is only touched under `lock`
    /// The module's path, for messages.
    let path: String
    /// The module's function table (`C_GetFunctionList`).
    let functions: ck_function_list
    private let ownsInitialization: Bool
    private let lock = PThreadLock()
    private var isFinalized = false

    /// Loads and initialises the module at `path`. The path must name a regular file: it is checked with `stat`,
    /// which never opens it, so a FIFO or device cannot block the login. Throws `refused` (exit 77) with one line
    /// for a missing file, anything that is not a PKCS#11 module (no raw loader text), or a module that fails to start.
    static func load(path: String) throws -> PKCS11Module {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == ENOENT ? "does not exist" : "cannot be read (\(String(cString: strerror(errno))))"
            throw HappyError.refused(
                "the PKCS#11 module \(path) \(reason); pass the right one with --pkcs11-module or HAPPY_PKCS11_MODULE")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw notAModule(path, "not a regular file")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            _ = dlerror()  // the loader's own text is not shown: one line of ours
            throw notAModule(path, "not a loadable shared library")
        }
        guard let symbol = dlsym(handle, "C_GetFunctionList") else {
            throw notAModule(path, "it has no C_GetFunctionList")
        }
        typealias GetFunctionList =
            @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<ck_function_list>?>?) -> ck_rv_t
        var listPointer: UnsafeMutablePointer<ck_function_list>?
        guard unsafeBitCast(symbol, to: GetFunctionList.self)(&listPointer) == CKR_OK, let list = listPointer?.pointee,
            let initialize = list.C_Initialize
        else { throw notAModule(path, "C_GetFunctionList failed") }
        var arguments = ck_c_initialize_args()
        arguments.flags = CKF_OS_LOCKING_OK
        let status = initialize(&arguments)
        guard status == CKR_OK || status == CKR_CRYPTOKI_ALREADY_INITIALIZED else {
            throw HappyError.refused("the PKCS#11 module \(path) could not start (\(Self.name(status)))")
        }
        return PKCS11Module(path: path, functions: list, ownsInitialization: status == CKR_OK)
    }

    private init(path: String, functions: ck_function_list, ownsInitialization: Bool) {
        self.path = path
        self.functions = functions
        self.ownsInitialization = ownsInitialization
    }

    deinit { finalize() }

    /// `C_Finalize`, once; later calls do nothing. Sessions must be closed first.
    func finalize() {
        lock.lock()
        defer { lock.unlock() }
        guard !isFinalized else { return }
        isFinalized = true
        if ownsInitialization { _ = functions.C_Finalize?(nil) }
    }

    private static func notAModule(_ path: String, _ why: String) -> HappyError {
        .refused(
            "\(path) is not a PKCS#11 module (\(why)); pass the module's .so with --pkcs11-module or "
                + "HAPPY_PKCS11_MODULE")
    }

    /// The slots with a token present.
    func slotsWithTokens() -> [ck_slot_id_t] {
        guard let getSlots = functions.C_GetSlotList else { return [] }
        var count: UInt = 0
        guard getSlots(1, nil, &count) == CKR_OK, count > 0, count < 1024 else { return [] }
        var slots = [ck_slot_id_t](repeating: 0, count: Int(count))
        guard getSlots(1, &slots, &count) == CKR_OK else { return [] }
        return Array(slots.prefix(Int(min(count, UInt(slots.count)))))
    }

    /// The token in `slot`, or nil when it cannot be asked.
    func tokenInfo(_ slot: ck_slot_id_t) -> ck_token_info? {
        guard let getInfo = functions.C_GetTokenInfo else { return nil }
        var info = ck_token_info()
        return getInfo(slot, &info) == CKR_OK ? info : nil
    }

    /// The mechanisms the token in `slot` offers; nil when the module does not say.
    func mechanisms(_ slot: ck_slot_id_t) -> Set<ck_mechanism_type_t>? {
        guard let list = functions.C_GetMechanismList else { return nil }
        var count: UInt = 0
        guard list(slot, nil, &count) == CKR_OK, count < 4096 else { return nil }
        var types = [ck_mechanism_type_t](repeating: 0, count: Int(count))
        guard list(slot, &types, &count) == CKR_OK else { return nil }
        return Set(types.prefix(Int(min(count, UInt(types.count)))))
    }

    /// The PKCS#11 name of a return value, for messages (the ones a user can meet; others as hex).
    static func name(_ status: ck_rv_t) -> String {
        let names: [ck_rv_t: String] = [
            CKR_PIN_INCORRECT: "CKR_PIN_INCORRECT", CKR_PIN_LOCKED: "CKR_PIN_LOCKED",
            CKR_PIN_EXPIRED: "CKR_PIN_EXPIRED", CKR_PIN_LEN_RANGE: "CKR_PIN_LEN_RANGE",
            CKR_DEVICE_REMOVED: "CKR_DEVICE_REMOVED", CKR_TOKEN_NOT_PRESENT: "CKR_TOKEN_NOT_PRESENT",
            CKR_DEVICE_ERROR: "CKR_DEVICE_ERROR", CKR_GENERAL_ERROR: "CKR_GENERAL_ERROR",
            CKR_FUNCTION_FAILED: "CKR_FUNCTION_FAILED", CKR_MECHANISM_INVALID: "CKR_MECHANISM_INVALID",
            CKR_KEY_TYPE_INCONSISTENT: "CKR_KEY_TYPE_INCONSISTENT", CKR_USER_NOT_LOGGED_IN: "CKR_USER_NOT_LOGGED_IN",
            CKR_KEY_FUNCTION_NOT_PERMITTED: "CKR_KEY_FUNCTION_NOT_PERMITTED", CKR_HOST_MEMORY: "CKR_HOST_MEMORY",
            CKR_SESSION_HANDLE_INVALID: "CKR_SESSION_HANDLE_INVALID", CKR_SESSION_CLOSED: "CKR_SESSION_CLOSED",
            CKR_TOKEN_NOT_RECOGNIZED: "CKR_TOKEN_NOT_RECOGNIZED",
        ]
        return names[status] ?? "PKCS#11 error 0x" + String(status, radix: 16)
    }
}
