internal import CLazyCrypto

/// OpenSSL's libcrypto, which `happy` does not link: its OpenSSL calls go through generated stubs
/// (Sources/CLazyCrypto, scripts/gen-lazy-crypto.py) that only call what `load()` resolved, so start-up and
/// `happy auth status` never load the library. Every path that touches OpenSSL starts with `try LazyCrypto.load()`;
/// a stub called before it aborts the process as the programming error it is. The binary announces the optional
/// library in an ELF `.note.dlopen` (systemd's format) for packagers and `readelf -n`.
enum LazyCrypto {
    /// Opens libcrypto.so.3 and resolves every function the stubs call, once per process (thread-safe; later calls
    /// return at once with the first answer). A missing or unusable library, or one without a function `happy`
    /// calls, is a `HappyError` (exit 1) before anything is done: nothing half written.
    static func load() throws(HappyError) {
        guard let failure = happy_crypto_load() else { return }
        throw HappyError.failed(
            "OpenSSL's libcrypto.so.3 cannot be used (\(String(cString: failure))); install libssl3")
    }
}
