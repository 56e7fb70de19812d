internal import CSodium

/// libsodium set-up, once per process.
enum Sodium {
    private static let initialized: Bool = sodium_init() >= 0
    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialize")
    }
    /// Fills `buffer` with cryptographically secure random bytes.
    static func randomBytes(into buffer: UnsafeMutableRawBufferPointer) {
        ensureInitialized()
        if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) }
    }
    static func randomBytes(count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { randomBytes(into: $0) }
        return out
    }
    /// Wipes a buffer that held secret bytes.
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { if let b = $0.baseAddress { sodium_memzero(b, $0.count) } }
    }
    static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        if let b = buffer.baseAddress { sodium_memzero(b, buffer.count) }
    }
}
