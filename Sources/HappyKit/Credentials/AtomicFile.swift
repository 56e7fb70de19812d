import Foundation

/// Atomic, private file writes (PROTOCOL §3, ours): a temporary file in the same directory, mode 0600, written,
/// fsynced, renamed over the target, then the directory fsynced. A reader never sees a half-written file and a
/// failure at any step leaves the old file as it was.
public enum AtomicFile {
    /// The steps a write goes through; tests inject a failure at one of them.
    public enum Step: Sendable { case written, synced, renamed }

    public static func write(
        _ bytes: [UInt8], to path: String, mode: mode_t = 0o600,
        failAt: (@Sendable (Step) throws -> Void)? = nil
    ) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        var template = Array("\(directory)/.\(name).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw problem(path, "cannot create a temporary file") }
        let tempPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var renamed = false
        defer {
            close(fd)
            if !renamed { unlink(tempPath) }
        }
        guard fchmod(fd, mode) == 0 else { throw problem(path, "cannot set mode") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw problem(path, "cannot write") }
            offset += n
        }
        try failAt?(.written)
        guard fsync(fd) == 0 else { throw problem(path, "cannot flush to disk") }
        try failAt?(.synced)
        guard rename(tempPath, path) == 0 else { throw problem(path, "cannot replace the file") }
        renamed = true
        try failAt?(.renamed)
        // fsync the directory too: rename alone is not durable across a crash.
        let dfd = open(directory, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    private static func problem(_ path: String, _ what: String) -> HappyError {
        .fileProblem(path: path, reason: "\(what) (\(String(cString: strerror(errno))))")
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? CocoaError, let u = e.underlying as? POSIXError { return String(cString: strerror(u.code.rawValue)) }
        return (error as NSError).localizedDescription
    }
}
