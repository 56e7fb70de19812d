import FoundationEssentials
import Glibc

/// Reads files that come from outside (the home's JSON files, `--cert`, `--key`, password and CA files) without
/// trusting what is at the path: it must be a regular file of at most `limit` bytes, checked on the open descriptor
/// before a byte is read. A FIFO, a device such as `/dev/zero`, or a directory never hangs or fills memory: the
/// open is non-blocking and `fstat` decides before any read.
public enum BoundedFile {
    /// The largest file of the home we read (PROTOCOL §3 files are a few hundred bytes).
    public static let defaultLimit = 1 << 20

    /// Why a file could not be read, phrased for the end of "cannot read <path>: …".
    public enum Failure: Error, Equatable, Sendable {
        case missing
        case notRegular(String)
        case tooLarge(Int)
        case unreadable(String)

        public var reason: String {
            switch self {
            case .missing: "no such file"
            case .notRegular(let kind): "not a regular file (\(kind))"
            case .tooLarge(let limit): "larger than \(limit >= 1 << 20 ? "\(limit >> 20) MiB" : "\(limit) bytes")"
            case .unreadable(let why): why
            }
        }
    }

    /// The whole file as ordinary bytes (for files without secrets, or parsed at once and wiped by the caller).
    public static func read(_ path: String, limit: Int = defaultLimit) throws(Failure) -> [UInt8] {
        try withOpenFile(path, limit: limit) { fd, size in
            var bytes = [UInt8](repeating: 0, count: size)
            let got = bytes.withUnsafeMutableBytes { readFully(fd, into: $0) }
            guard got >= 0 else { throw Failure.unreadable(describe(errno)) }
            bytes.removeLast(size - got)
            return bytes
        }
    }

    /// Opens `path` without blocking (a FIFO never hangs), checks it is a regular file within `limit`, and hands
    /// `body` the descriptor and size.
    static func withOpenFile<T>(
        _ path: String, limit: Int, _ body: (Int32, Int) throws -> T
    ) throws(Failure) -> T {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw errno == ENOENT ? .missing : .unreadable(describe(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(describe(errno)) }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else { throw .notRegular(kindName(kind)) }
        guard info.st_size >= 0, info.st_size <= Int64(limit) else { throw .tooLarge(limit) }
        do { return try body(fd, Int(info.st_size)) } catch let failure as Failure { throw failure } catch {
            throw .unreadable("\(error)")
        }
    }

    /// Reads until `buffer` is full or end of file; returns the count, or -1 with errno set.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var done = 0
        while done < buffer.count {
            let n = Glibc.read(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func kindName(_ kind: mode_t) -> String {
        switch kind {
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFDIR: "a directory"
        case S_IFSOCK: "a socket"
        default: "not a plain file"
        }
    }

    /// An errno in the words messages use (the disk-full and read-only cases name what the user must fix).
    static func describe(_ code: Int32) -> String {
        switch code {
        case ENOENT: "no such file"
        case EACCES, EPERM: "permission denied"
        case EISDIR: "it is a directory"
        case ENOSPC, EDQUOT: "the disk is full"
        case EROFS: "the file system is read-only"
        default: String(cString: strerror(code))
        }
    }
}
