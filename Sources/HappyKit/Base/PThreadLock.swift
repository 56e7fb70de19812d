import Glibc

/// A pthread mutex with `NSLock`'s interface, for the types that lock around plain state without full Foundation.
/// Not recursive, like `NSLock`.
public final class PThreadLock: @unchecked Sendable {  // the mutex is only touched through pthread calls
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Blocks until this thread holds the lock.
    public func lock() { pthread_mutex_lock(mutex) }

    /// Releases the lock this thread holds.
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` holding the lock.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A detached POSIX thread of its own, for work that blocks (a poll loop, sigwait) and must not hold a Swift
/// concurrency thread; `Thread` is not in FoundationEssentials.
public enum PThread {
    /// Starts `body` on a new detached thread named `name` (15 bytes at most show in `ps`), with `stackSize` bytes of
    /// stack when given.
    public static func detach(name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        let job = Unmanaged.passRetained(Job(name: String(decoding: name.utf8.prefix(15), as: UTF8.self), body: body))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }
        var thread = pthread_t()
        let started = pthread_create(
            &thread, &attributes,
            { raw in
                let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                job.nameThisThread()
                job.body()
                return nil
            }, job.toOpaque())
        if started != 0 {
            job.release()
            fatalError("pthread_create failed: \(started)")
        }
    }

    private final class Job {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) { self.name = name; self.body = body }

        /// What `ps -L` shows; through /proc because Glibc's module does not export pthread_setname_np.
        func nameThisThread() {
            let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            _ = name.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
    }
}
