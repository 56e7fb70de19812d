internal import CSodium

/// Secret key material: written once in `init`, read through `withUnsafeBytes`, wiped on release.
/// Memory comes from `sodium_malloc` (guard pages, locked); `sodium_free` wipes it before releasing.
public final class SecretBytes: CustomStringConvertible, CustomDebugStringConvertible, @unchecked Sendable {
    public let count: Int
    private let base: UnsafeMutableRawPointer

    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        Sodium.ensureInitialized()
        guard let memory = sodium_malloc(max(count, 1)) else { throw HappyError.internalFailure("out of memory") }
        do { try fill(UnsafeMutableRawBufferPointer(start: memory, count: count)) } catch {
            sodium_free(memory)
            throw error
        }
        base = memory
        self.count = count
    }

    /// Copies `bytes` in, then wipes the source array.
    public convenience init(consuming bytes: inout [UInt8]) throws {
        let source = bytes
        try self.init(count: source.count) { dst in dst.copyBytes(from: source) }
        Sodium.wipe(&bytes)
    }

    /// Fresh random secret bytes.
    public static func random(count: Int) throws -> SecretBytes {
        try SecretBytes(count: count) { Sodium.randomBytes(into: $0) }
    }

    deinit { sodium_free(base) }

    /// Wipes an ordinary buffer that briefly held secret bytes (`sodium_memzero`: not optimised away).
    public static func wipe(_ bytes: inout [UInt8]) { Sodium.wipe(&bytes) }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// A copy with a NUL byte after the secret, in secret memory too: for C APIs that take a password or PIN as a
    /// C string (OpenSSL's PEM and PKCS#12 readers, the PKCS#11 engine).
    public func nulTerminated() throws -> SecretBytes {
        try SecretBytes(count: count + 1) { out in
            withUnsafeBytes { out.copyBytes(from: $0) }
            out[count] = 0
        }
    }

    /// Constant-time comparison.
    public func isEqual(to other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in
            other.withUnsafeBytes { b in sodium_memcmp(a.baseAddress!, b.baseAddress!, count) == 0 }
        }
    }

    public var description: String { "SecretBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }
}
