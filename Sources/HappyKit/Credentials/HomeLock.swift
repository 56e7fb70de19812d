import FoundationEssentials
import Glibc

/// An advisory exclusive lock on the home directory itself (`flock` on its descriptor), so two `happy` processes
/// cannot interleave a login, logout or approve. Locking the directory leaves no lock file behind.
public final class HomeLock: @unchecked Sendable {
    private let fd: Int32

    /// Blocks until the lock is held; `onWait` is told once when another process holds it.
    public init(home: HappyHome, onWait: () -> Void = {}) throws {
        try home.ensureExists()
        fd = open(home.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw HappyError.fileProblem(
                path: home.path, reason: "cannot open to lock (\(String(cString: strerror(errno))))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            onWait()
            while flock(fd, LOCK_EX) != 0 {
                if errno != EINTR {
                    close(fd)
                    throw HappyError.fileProblem(
                        path: home.path, reason: "cannot lock (\(String(cString: strerror(errno))))")
                }
            }
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
