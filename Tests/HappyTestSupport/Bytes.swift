import HappyKit

/// Bytes from a hex string (test vectors); whitespace is ignored.
public func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0, "odd hex length")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// `count` bytes counting up from `start` (wrapping), the fixed keys of the test vectors.
public func counting(from start: UInt8, count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: Int(start) + $0) }
}

/// A copy of secret bytes, for comparing in tests.
public func bytes(of secret: SecretBytes) -> [UInt8] { secret.withUnsafeBytes { Array($0) } }

/// Secret bytes holding a copy of `value`.
public func secret(_ value: [UInt8]) throws -> SecretBytes {
    var copy = value
    return try SecretBytes(consuming: &copy)
}
