import Foundation

/// A fresh temporary directory (mkdtemp), removed with everything in it when the last reference goes: the one way
/// the test targets make a scratch directory (`Sandbox` for HappyKit, CLI tests directly, `Scratch` end to end).
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "happy-cli-tests") {
        let base = NSTemporaryDirectory()
        var template = Array((base + (base.hasSuffix("/") ? "" : "/") + "\(prefix)-XXXXXX").utf8CString)
        precondition(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) } != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
