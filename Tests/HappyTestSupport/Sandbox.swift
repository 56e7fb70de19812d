import Foundation
import HappyKit

/// A fresh temporary directory for one test, removed when the suite instance (one per test) is released.
/// `home` is a path inside it that does not exist yet, so tests can check what a flow creates.
public final class Sandbox: Sendable {
    private let directory = TemporaryDirectory(prefix: "happy-tests")
    public var root: String { directory.path }

    public init() {}

    public var home: HappyHome { HappyHome(path: root + "/home") }

    public func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// Writes `text` (creating parent directories with mode 0700).
    public func write(_ text: String, to path: String, mode: mode_t = 0o600) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
    }

    public func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The permission bits of `path`.
    public func mode(of path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    /// Names in a directory, sorted (hidden ones included).
    public func listing(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }
}
