import FoundationEssentials
import Glibc

/// `settings.json.lock`, the lock the TypeScript CLI's `updateSettings` takes around every settings.json update
/// (PROTOCOL §3), taken the same way: created with O_CREAT|O_EXCL|O_WRONLY, retried every 100 ms until a deadline
/// 5 s away (on the monotonic clock: slow retries cannot stretch it), removed after the write. A lock older than 10 s (mtime) is stale and removed, as the TypeScript CLI does; so is a
/// lock holding the pid of a process that no longer exists. An empty or young lock is the TypeScript CLI's normal lock
/// and is only ever waited for. Ours holds our pid, for diagnostics. Taken after `HomeLock`, before anything is
/// written.
public final class SettingsLock: @unchecked Sendable {  // released once, by its owner
    /// The clock, the liveness check and our pid, injected so the rules can be tested without waiting.
    public struct Environment: Sendable {
        public var now: @Sendable () -> Date
        public var sleep: @Sendable (Duration) -> Void
        public var isAlive: @Sendable (Int32) -> Bool
        public var pid: Int32
        /// Time since some fixed point, for the 5 s deadline; by default derived from `now`.
        public var elapsed: @Sendable () -> Duration

        public init(
            now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Duration) -> Void,
            isAlive: @escaping @Sendable (Int32) -> Bool, pid: Int32, elapsed: (@Sendable () -> Duration)? = nil
        ) {
            self.now = now
            self.sleep = sleep
            self.isAlive = isAlive
            self.pid = pid
            let origin = now()
            self.elapsed = elapsed ?? { .seconds(now().timeIntervalSince(origin)) }
        }

        /// The real clock (the lock's mtime is wall time), `kill(pid, 0)`, and this process.
        public static let live = Environment(
            now: { Date() },
            sleep: { duration in
                let ns = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
                var request = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
            },
            isAlive: ProcessControl.live().isAlive,
            pid: getpid(),
            elapsed: {
                var spec = timespec()
                clock_gettime(CLOCK_MONOTONIC, &spec)
                return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
            })
    }

    /// The TypeScript CLI's constants: attempts 100 ms apart for 5 s, stale after 10 s.
    static let retryInterval = Duration.milliseconds(100)
    static let waitLimit = Duration.seconds(5)
    static let staleAfter: TimeInterval = 10

    public let path: String
    private let pid: Int32
    private var held = false

    /// Takes the lock, waiting as the TypeScript CLI does. `onWait` is told once, with who holds it, when it must
    /// wait. Throws `.failed` when it is still held after 5 s; then nothing has been written.
    public init(home: HappyHome, environment: Environment = .live, onWait: (String) -> Void = { _ in }) throws {
        path = home.settingsPath + ".lock"
        pid = environment.pid
        let end = environment.elapsed() + Self.waitLimit
        var waited = false
        var holder = "another process"
        while true {
            let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            if fd >= 0 {
                let text = Array(String(pid).utf8)
                _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }  // diagnostics only
                close(fd)
                held = true
                return
            }
            guard errno == EEXIST else {
                throw HappyError.fileProblem(
                    path: path, reason: "cannot create the lock (\(String(cString: strerror(errno))))")
            }
            guard environment.elapsed() < end else { break }
            if !waited {
                holder = Self.holder(of: path)
                onWait(holder)
                waited = true
            }
            environment.sleep(Self.retryInterval)
            Self.removeIfStale(path, environment: environment)
        }
        throw HappyError.failed(
            "settings.json is locked by \(holder) (\(path)) and was not released within 5 s, so nothing was changed. "
                + "Try again; if no happy process is running, remove the lock file")
    }

    /// Removes the lock. Called once the write is done (or failed); `deinit` does it too. A lock that no longer holds
    /// our pid was judged stale and taken by another writer meanwhile: it is theirs now and stays.
    public func release() {
        guard held else { return }
        held = false
        if Self.pid(in: path) == pid { unlink(path) }
    }

    deinit { release() }

    /// Who holds the lock, for the messages: our style (a pid) or the TypeScript CLI's (empty).
    static func holder(of path: String) -> String {
        if let pid = pid(in: path) { return "another process (pid \(pid))" }
        return "another program (such as the TypeScript happy CLI)"
    }

    /// The pid a lock holds, when it holds one (ours do; the TypeScript CLI's are empty). Read like every other file
    /// of the home (`BoundedFile`: a regular file of at most 1 MiB, opened without blocking), so a huge lock or a
    /// FIFO in its place costs nothing.
    static func pid(in path: String) -> Int32? {
        guard let data = try? BoundedFile.read(path), data.count <= 32 else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingWhitespaceAndNewlines()
        guard let pid = Int32(text), pid > 0 else { return nil }  // Int32(String) returns nil when out of range
        return pid
    }

    /// The TypeScript CLI's rule (mtime older than 10 s), plus ours: a pid that is not running (or is our own, which
    /// cannot be holding it now). The file is removed only if it is still the one that was judged.
    static func removeIfStale(_ path: String, environment: Environment) {
        guard let before = identity(of: path) else { return }
        var stale = environment.now().timeIntervalSince(before.modified) > staleAfter
        if !stale, let pid = pid(in: path) {
            stale = pid == environment.pid || !environment.isAlive(pid)
        }
        // Another writer may have replaced a stale lock with its own meanwhile: remove only the file judged.
        guard stale, let now = identity(of: path), now == before else { return }
        unlink(path)
    }

    private struct Identity: Equatable {
        var inode: UInt64
        var modified: Date
    }

    private static func identity(of path: String) -> Identity? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let inode = attributes[.systemFileNumber] as? UInt64,
            let modified = attributes[.modificationDate] as? Date
        else { return nil }
        return Identity(inode: inode, modified: modified)
    }
}
