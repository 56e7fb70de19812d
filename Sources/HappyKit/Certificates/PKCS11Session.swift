internal import CPKCS11
import FoundationEssentials

/// A read-only session on one token of a `PKCS11Module` (PROTOCOL §7). `close()` (or `deinit`) logs out when this
/// session logged in, then closes the session; the module is finalised by its own owner afterwards.
final class PKCS11Session: @unchecked Sendable {  // `isOpen`/`isLoggedIn` are only touched under `lock`
    let module: PKCS11Module
    let slot: ck_slot_id_t
    let handle: ck_session_handle_t
    private let lock = PThreadLock()
    private var isOpen = true
    private var isLoggedIn = false

    /// Opens a serial read-only session on the token in `slot`; throws the token's failure as one line.
    init(module: PKCS11Module, slot: ck_slot_id_t, tokenName: String) throws {
        guard let open = module.functions.C_OpenSession else {
            throw HappyError.refused("the PKCS#11 module \(module.path) cannot open sessions")
        }
        var session: ck_session_handle_t = 0
        let status = open(slot, CKF_SERIAL_SESSION, nil, nil, &session)
        guard status == CKR_OK else { throw TokenFailure.error(status, token: tokenName, during: "opening a session") }
        self.module = module
        self.slot = slot
        self.handle = session
    }

    deinit { close() }

    /// Logs in as the user with `pin`, exactly once: the bytes go to `C_Login` straight from locked memory. A wrong
    /// PIN is never retried here or anywhere else (each try counts against the token's PIN limit). `nil` logs in
    /// through the reader's own PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH).
    func login(pin: SecretBytes?, tokenName: String) throws {
        guard let login = module.functions.C_Login else {
            throw HappyError.refused("the PKCS#11 module \(module.path) cannot log in")
        }
        lock.lock()
        defer { lock.unlock() }
        let status: ck_rv_t
        if let pin {
            status = pin.withUnsafeBytes { bytes in
                login(
                    handle, CKU_USER,
                    UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)),
                    UInt(bytes.count))
            }
        } else {
            status = login(handle, CKU_USER, nil, 0)
        }
        guard status == CKR_OK || status == CKR_USER_ALREADY_LOGGED_IN else {
            throw TokenFailure.error(status, token: tokenName, during: "logging in")
        }
        isLoggedIn = status == CKR_OK
    }

    /// Runs `body` with the session handle while no other thread uses this session (one PKCS#11 session is not
    /// meant for concurrent operations). Throws `refused` once the session was closed.
    func withSession<R>(_ body: (ck_session_handle_t) throws -> R) throws -> R {
        lock.lock()
        defer { lock.unlock() }
        guard isOpen else { throw HappyError.refused("the token session is already closed") }
        return try body(handle)
    }

    /// `C_Logout` (when logged in) and `C_CloseSession`, once.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard isOpen else { return }
        isOpen = false
        if isLoggedIn { _ = module.functions.C_Logout?(handle) }
        isLoggedIn = false
        _ = module.functions.C_CloseSession?(handle)
    }
}

/// One line for each PKCS#11 failure a user can act on (PROTOCOL §7), all exit 77.
enum TokenFailure {
    static func error(_ status: ck_rv_t, token: String, during step: String) -> HappyError {
        switch status {
        case CKR_PIN_INCORRECT, CKR_PIN_LEN_RANGE:
            .refused(
                "wrong PIN for \(token); it was tried once and not again, since every wrong try counts toward "
                    + "locking the token")
        case CKR_PIN_LOCKED:
            .refused(
                "the PIN of \(token) is locked after too many wrong tries; unblock it with the security officer "
                    + "PIN (pkcs11-tool --login --login-type so --init-pin) or ask your administrator")
        case CKR_PIN_EXPIRED:
            .refused(
                "the PIN of \(token) has expired; set a new one (pkcs11-tool --login --change-pin) and log in again")
        case CKR_DEVICE_REMOVED:
            .refused("\(token) was removed while \(step); insert it and log in again")
        case CKR_TOKEN_NOT_PRESENT:
            .refused("\(token) is not present (\(step)); insert it and log in again")
        default:
            .refused("\(token) failed while \(step) (\(PKCS11Module.name(status)))")
        }
    }
}
