import FoundationEssentials
import Glibc

/// Atomic, private file writes (PROTOCOL §3, ours): a temporary file in the same directory, mode 0600, written,
/// fsynced, renamed over the target, then the directory fsynced. A reader never sees a half-written file and a
/// failure at any step leaves the old file as it was. Two files that must change together are first both
/// `prepare`d (written and fsynced, so a full disk fails before anything is replaced), then both `commit`ted.
public enum AtomicFile {
    /// The steps a write goes through; tests inject a failure at one of them.
    public enum Step: Sendable { case written, synced, renamed }

    /// The prefix of every temporary file: `.<name>.tmp-XXXXXX`. A run killed with SIGKILL can leave one; the next
    /// login or logout removes them (`HappyHome.removeStaleTemporaryFiles`).
    static let temporaryMarker = ".tmp-"

    public static func write(
        _ bytes: [UInt8], to path: String, mode: mode_t = 0o600,
        failAt: (@Sendable (Step) throws -> Void)? = nil
    ) throws {
        try bytes.withUnsafeBytes { try write($0, to: path, mode: mode, failAt: failAt) }
    }

    /// `write` from locked memory (the bytes of `access.key`): the file is written from the secret's own buffer,
    /// never through a copy.
    public static func write(
        _ bytes: SecretBytes, to path: String, mode: mode_t = 0o600,
        failAt: (@Sendable (Step) throws -> Void)? = nil
    ) throws {
        try bytes.withUnsafeBytes { try write($0, to: path, mode: mode, failAt: failAt) }
    }

    /// `write` from any memory, without a copy.
    public static func write(
        _ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t = 0o600,
        failAt: (@Sendable (Step) throws -> Void)? = nil
    ) throws {
        let pending = try prepare(bytes, for: path, mode: mode, failAt: failAt)
        try pending.commit(failAt: failAt)
    }

    /// Writes `bytes` to a fresh temporary file beside `path` and fsyncs it; nothing is replaced yet.
    public static func prepare(
        _ bytes: [UInt8], for path: String, mode: mode_t = 0o600,
        failAt: (@Sendable (Step) throws -> Void)? = nil
    ) throws -> Pending {
        try bytes.withUnsafeBytes { try prepare($0, for: path, mode: mode, failAt: failAt) }
    }

    /// `prepare` from locked memory (the bytes of `access.key`), without a copy.
    public static func prepare(
        _ bytes: SecretBytes, for path: String, mode: mode_t = 0o600,
        failAt: (@Sendable (Step) throws -> Void)? = nil
    ) throws -> Pending {
        try bytes.withUnsafeBytes { try prepare($0, for: path, mode: mode, failAt: failAt) }
    }

    /// `prepare` from any memory: the file is written straight from `bytes`, without a copy.
    public static func prepare(
        _ bytes: UnsafeRawBufferPointer, for path: String, mode: mode_t = 0o600,
        failAt: (@Sendable (Step) throws -> Void)? = nil
    ) throws -> Pending {
        let (directory, name) = split(path)
        var template = Array("\(directory)/.\(name)\(temporaryMarker)XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw problem(path, "cannot create a temporary file") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)  // never inherited by a child (the browser)
        let tempPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let pending = Pending(path: path, tempPath: tempPath, directory: directory)
        defer { close(fd) }
        guard fchmod(fd, mode) == 0 else { throw problem(path, "cannot set mode") }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw problem(path, "cannot write")
            }
            offset += n
        }
        try failAt?(.written)
        guard fsync(fd) == 0 else { throw problem(path, "cannot flush to disk") }
        try failAt?(.synced)
        return pending
    }

    /// A written, fsynced temporary file waiting to replace its target. Released without `commit`, it is removed.
    public final class Pending: @unchecked Sendable {  // used by one thread
        let path: String
        let tempPath: String
        let directory: String
        private var committed = false

        init(path: String, tempPath: String, directory: String) {
            self.path = path
            self.tempPath = tempPath
            self.directory = directory
        }

        /// Renames the temporary file over the target, then fsyncs the directory (rename alone is not durable).
        public func commit(failAt: (@Sendable (Step) throws -> Void)? = nil) throws {
            guard rename(tempPath, path) == 0 else { throw AtomicFile.problem(path, "cannot replace the file") }
            committed = true
            try failAt?(.renamed)
            let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dfd >= 0 {
                fsync(dfd)
                close(dfd)
            }
        }

        deinit { if !committed { unlink(tempPath) } }
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    static func problem(_ path: String, _ what: String) -> HappyError {
        .fileProblem(path: path, reason: "\(what) (\(BoundedFile.describe(errno)))")
    }
}
