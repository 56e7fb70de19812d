import FoundationEssentials
import Glibc
import HappyKit

/// The write end of the self-pipe: the only thing the C signal handler touches (async-signal-safe `write`).
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// SIGINT, SIGTERM and SIGHUP, handled alike. A real `sigaction` handler (not SIG_IGN, which a child would inherit)
/// writes the signal number to a pipe; a dedicated thread reads it and cancels the work, which unwinds and exits
/// 128 + the signal with nothing written. If the work has not ended 2 s later, or a second signal comes, the process
/// exits at once — except inside `guard.holding`, the few milliseconds in which credentials are written: there the
/// exit waits for the write to finish, so a signal never leaves half a login (and once it is written, the run ends 0).
final class SignalHandler: @unchecked Sendable {  // state behind `lock`
    static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    /// How long a cancelled run may take to unwind before the process exits anyway.
    static let unwindSeconds: Int32 = 2

    private let lock = PThreadLock()
    private var cancel: (@Sendable () -> Void)?
    private var first: Int32?
    private var holding = 0
    private var wrote = false
    private let readEnd: Int32

    /// The first signal received, if any.
    var received: Int32? { lock.withLock { first } }

    private init(readEnd: Int32) { self.readEnd = readEnd }

    static func install() -> SignalHandler {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return SignalHandler(readEnd: -1) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        signalPipeWriteEnd = fds[1]
        let handler = SignalHandler(readEnd: fds[0])
        for sig in handled {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                let saved = errno
                var byte = UInt8(truncatingIfNeeded: sig)
                _ = write(signalPipeWriteEnd, &byte, 1)
                errno = saved
            }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
        // A parent may have blocked these (children inherit the mask): unblock them, or they would never arrive.
        var mask = sigset_t()
        sigemptyset(&mask)
        for sig in handled { sigaddset(&mask, sig) }
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
        PThread.detach(name: "happy-signals", stackSize: 1 << 16) { handler.watch() }
        return handler
    }

    /// What the first signal does (cancel the run's work).
    func onSignal(_ cancel: @escaping @Sendable () -> Void) {
        let pending = lock.withLock { () -> Bool in
            self.cancel = cancel
            return first != nil
        }
        if pending { cancel() }
    }

    /// The guard flows use around the credential write.
    var `guard`: SignalGuard {
        SignalGuard { [self] body in
            lock.withLock { holding += 1 }
            defer {
                lock.withLock {
                    holding -= 1
                    if holding == 0 { wrote = true }
                }
            }
            try body()
        }
    }

    private func watch() {
        var deadline: Date?
        var graceGiven = false
        while true {
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let waitMs: Int32 = deadline.map { max(0, Int32($0.timeIntervalSinceNow * 1000)) } ?? -1
            let ready = poll(&poller, 1, waitMs)
            if ready < 0 { if errno == EINTR { continue } else { return } }
            if ready == 0 {
                // The run did not unwind in time: exit, unless credentials are being written right now, or were just
                // written (the run is finishing: its locks are released and its last lines printed on the way out;
                // it gets one more grace period for that, then ends 0).
                let (isHolding, hasWritten) = lock.withLock { (holding > 0, wrote) }
                if isHolding { deadline = Date().addingTimeInterval(0.05); continue }
                if hasWritten, !graceGiven {
                    graceGiven = true
                    deadline = Date().addingTimeInterval(TimeInterval(Self.unwindSeconds))
                    continue
                }
                exitNow()
            }
            var byte: UInt8 = 0
            guard read(readEnd, &byte, 1) == 1 else { continue }
            let (isFirst, cancel) = lock.withLock { () -> (Bool, (@Sendable () -> Void)?) in
                if first == nil {
                    first = Int32(byte)
                    return (true, self.cancel)
                }
                return (false, nil)
            }
            if isFirst {
                if isatty(2) == 1 { LiveConsole.write("\r\u{1B}[2K", to: 2) }
                cancel?()
                deadline = Date().addingTimeInterval(TimeInterval(Self.unwindSeconds))
            } else if lock.withLock({ holding == 0 && !wrote }) {
                exitNow()  // a second signal ends a run that has written nothing at once
            }
        }
    }

    /// Ends the process: 0 when the login was written, else 128 + the first signal, with a line saying so.
    private func exitNow() -> Never {
        let (signal, wrote) = lock.withLock { (first ?? SIGINT, self.wrote) }
        if wrote { _exit(0) }
        LiveConsole.write("happy: stopped by signal \(signal) before finishing; nothing was written.\n", to: 2)
        _exit(128 + signal)
    }
}
