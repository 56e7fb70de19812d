import FoundationEssentials
import Glibc

/// What the browser brought back to the loopback listener at the end of the hand-off (PROTOCOL §6).
public enum HandoffCallback: Equatable, Sendable {
    /// `?code=<claim code>`: to be claimed with `POST /v1/auth/mtls/claim`.
    case code(String)
    /// `?error=<reason>`, e.g. `restore_required`.
    case error(String)
}

/// A one-shot HTTP listener on 127.0.0.1 and an ephemeral port for the browser hand-off (PROTOCOL §6). It accepts
/// exactly one `GET` on its unguessable path carrying `code=` or `error=`, answers it with a short "you can close this
/// tab" page, and stops listening. Every other request (another path, another method, the path without a code) gets
/// a 404 and changes nothing.
///
/// One thread runs a `poll(2)` loop over the listening socket, every open connection and a wake-up pipe: connections
/// are served side by side, each with an absolute deadline for its request head (`headDeadline`, never past the
/// login's own), so a client that trickles bytes cannot hold up another. A connection from a socket that another
/// user owns (`LoopbackPeer`) is closed at once, unread. `close()` ends a pending wait at once; the thread notices
/// the wake-up pipe and releases its descriptors on its own.
final class LoopbackListener: @unchecked Sendable {  // mutable state is behind `lock`; the rest is immutable
    let port: Int
    /// The random path, with its leading "/".
    let path: String
    private let fd: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let peerCheck: @Sendable (sockaddr_in, sockaddr_in) -> Bool
    private let lock = PThreadLock()
    private var closed = false
    private var serving = false
    private var continuation: CheckedContinuation<HandoffCallback, any Error>?

    /// The largest request head read; a browser's GET is far smaller.
    static let maximumRequestBytes = 16 * 1024
    /// How long one connection may take, from its accept, to send its whole request head.
    static let headDeadline: Duration = .seconds(3)
    /// Connections served at once; further ones are closed unread until one ends.
    static let maximumConnections = 32

    /// `peerCheck(peer, local)`: whether the connecting socket may deliver the callback; by default whether it
    /// belongs to this process's user (`LoopbackPeer.isOwnedByCurrentUser`).
    init(
        path: String,
        peerCheck: @escaping @Sendable (sockaddr_in, sockaddr_in) -> Bool = {
            LoopbackPeer.isOwnedByCurrentUser(peer: $0, local: $1)
        }
    ) throws {
        self.path = path
        self.peerCheck = peerCheck
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw Self.failure("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        let named =
            bound == 0 && listen(socketFD, 64) == 0
            ? withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
            } : -1
        var pipeFDs: [Int32] = [-1, -1]
        guard named == 0, fcntl(socketFD, F_SETFL, O_NONBLOCK) == 0,
            pipe(&pipeFDs) == 0
        else {
            let error = Self.failure("bind")
            Glibc.close(socketFD)
            throw error
        }
        for end in pipeFDs {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
        }
        fd = socketFD
        wakeRead = pipeFDs[0]
        wakeWrite = pipeFDs[1]
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close() }

    /// Stops listening; a pending `waitForCallback` ends at once with `CancellationError`. Safe to call more than once.
    func close() {
        let waiting: CheckedContinuation<HandoffCallback, any Error>? = lock.withLock {
            guard !closed else { return nil }
            closed = true
            if serving {
                var byte: UInt8 = 1
                _ = Glibc.write(wakeWrite, &byte, 1)  // the loop closes every descriptor when it sees this
            } else {
                releaseDescriptors()
            }
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume(throwing: CancellationError())
    }

    /// Serves requests until the one callback arrives, then closes the listener and returns it. `limit` is what is
    /// left of the login's deadline: no connection's head deadline reaches past it. Task cancellation and `close()`
    /// end the wait at once with `CancellationError`.
    func waitForCallback(within limit: Duration) async throws -> HandoffCallback {
        let end = Monotonic.now() + limit
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<HandoffCallback, any Error>) in
                let start: Bool = lock.withLock {
                    guard !closed, !serving else { return false }
                    serving = true
                    self.continuation = continuation
                    return true
                }
                guard start else { return continuation.resume(throwing: CancellationError()) }
                PThread.detach(name: "happy-loopback") { [self] in serve(until: end) }
            }
        } onCancel: {
            close()
        }
    }

    // MARK: The poll loop (on its own thread)

    private struct Connection {
        let fd: Int32
        let deadline: Duration
        var head: [UInt8] = []
    }

    private func serve(until end: Duration) {
        var connections: [Connection] = []
        defer {
            for connection in connections { Glibc.close(connection.fd) }
            lock.withLock { releaseDescriptors() }
        }
        while !lock.withLock({ closed }) {
            let now = Monotonic.now()
            connections.removeAll { connection in
                guard connection.deadline <= now else { return false }
                Glibc.close(connection.fd)  // its head did not arrive in time
                return true
            }
            let nearest = connections.map(\.deadline).min().map { $0 - now } ?? .seconds(1)
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            fds += connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let wait = Int32(clamping: max(1, min(nearest, .seconds(1)).roundedUpMilliseconds))
            let polled = poll(&fds, nfds_t(fds.count), wait)
            if polled < 0 && errno != EINTR { return finish(with: nil) }
            guard polled > 0, fds[0].revents == 0 else { continue }
            let ready = fds.dropFirst(2).map { $0.revents != 0 }
            if fds[1].revents != 0 { acceptAll(into: &connections, end: end) }
            var finished: [Int] = []
            for (index, isReady) in ready.enumerated() where isReady {
                switch read(&connections[index]) {
                case .pending: continue
                case .answered: finished.append(index)
                case .callback(let callback):
                    connections.remove(at: index)  // already closed; `defer` closes the others
                    return finish(with: callback)
                }
            }
            for index in finished.reversed() { connections.remove(at: index) }
        }
    }

    /// Accepts every pending connection: one from another user's socket is closed unread.
    private func acceptAll(into connections: inout [Connection], end: Duration) {
        while true {
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let client = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(fd, $0, &length)
                }
            }
            guard client >= 0 else { return }
            // accept4 is not in Swift's Glibc module: the flags one call later (no exec happens in between).
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            _ = fcntl(client, F_SETFL, O_NONBLOCK)
            var local = sockaddr_in()
            var localLength = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(client, $0, &localLength) }
            }
            guard named == 0, connections.count < Self.maximumConnections, peerCheck(peer, local) else {
                Glibc.close(client)
                continue
            }
            connections.append(Connection(fd: client, deadline: min(Monotonic.now() + Self.headDeadline, end)))
        }
    }

    private enum ReadOutcome {
        case pending, answered
        case callback(HandoffCallback)
    }

    /// Reads what arrived on one connection; once its head is complete (or it ended or grew too large) answers it
    /// and closes it: `.callback` when this request was the one.
    private func read(_ connection: inout Connection) -> ReadOutcome {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let got = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
        if got < 0 && (errno == EAGAIN || errno == EINTR) { return .pending }
        if got > 0 { connection.head += buffer[0..<got] }
        let complete = Self.containsTerminator(connection.head)
        guard complete || got <= 0 || connection.head.count >= Self.maximumRequestBytes else { return .pending }
        let callback = complete ? HandoffRequest(head: connection.head).callback(forPath: path) : nil
        if got > 0 || complete {
            if let callback {
                respond(connection.fd, status: "200 OK", body: Self.page(for: callback))
            } else {
                respond(connection.fd, status: "404 Not Found", body: Self.notFound)
            }
        }
        Glibc.close(connection.fd)
        return callback.map(ReadOutcome.callback) ?? .answered
    }

    private func finish(with callback: HandoffCallback?) {
        let waiting: CheckedContinuation<HandoffCallback, any Error>? = lock.withLock {
            closed = true
            defer { continuation = nil }
            return continuation
        }
        if let callback { waiting?.resume(returning: callback) } else { waiting?.resume(throwing: CancellationError()) }
    }

    /// Closes the listening socket and the wake-up pipe; called once, with `lock` held.
    private func releaseDescriptors() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// Sends a short answer without blocking: it fits the socket buffer of a fresh connection; a peer that does not
    /// read loses the rest.
    private func respond(_ client: Int32, status: String, body: String) {
        let bytes = Array(body.utf8)
        let text =
            "HTTP/1.1 \(status)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(bytes.count)\r\n"
            + "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n"
        let all = Array(text.utf8) + bytes
        var sent = 0
        while sent < all.count {
            let n = all[sent...].withUnsafeBytes {
                send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            sent += n
        }
    }

    static let notFound = "<!doctype html><title>Not found</title><p>Not found.</p>\n"

    static func page(for callback: HandoffCallback) -> String {
        let message =
            switch callback {
            case .code: "Happy received your sign-in. You can close this tab and return to the terminal."
            case .error:
                "Happy could not sign you in with this certificate; the terminal says why. You can close this tab."
            }
        return "<!doctype html><meta charset=\"utf-8\"><title>Happy</title><p>\(message)</p>\n"
    }

    private static func containsTerminator(_ head: [UInt8]) -> Bool {
        guard head.count >= 4 else { return false }
        for start in 0...(head.count - 4)
        where head[start] == 13 && head[start + 1] == 10 && head[start + 2] == 13 && head[start + 3] == 10 {
            return true
        }
        return false
    }

    private static func failure(_ call: String) -> HappyError {
        .failed("cannot listen on 127.0.0.1 for the browser hand-off (\(call): \(String(cString: strerror(errno))))")
    }
}

/// The monotonic clock as a `Duration` since boot, for the listener's deadlines (its thread has no `Timing`).
enum Monotonic {
    static func now() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }
}

extension Duration {
    /// Whole milliseconds, rounded up (so a poll never wakes just before a deadline).
    fileprivate var roundedUpMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}

/// The request line of one HTTP request head, and whether it is the hand-off callback.
struct HandoffRequest: Equatable {
    let method: String
    let target: String

    init(head: [UInt8]) {
        let firstLine = head.prefix { $0 != 13 && $0 != 10 }
        let parts = String(decoding: firstLine, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
        method = parts.first.map(String.init) ?? ""
        target = parts.count > 1 ? String(parts[1]) : ""
    }

    /// `.code`/`.error` for a `GET` on exactly `path` with a non-empty `code` or `error` parameter; nil otherwise.
    func callback(forPath path: String) -> HandoffCallback? {
        guard method == "GET", target.hasPrefix("/"),
            let components = URLComponents(string: "http://127.0.0.1" + target),
            components.percentEncodedPath == path
        else { return nil }
        let items = components.queryItems ?? []
        // Claim codes are short (Happier: 32 random characters); anything huge is not one.
        if let code = items.first(where: { $0.name == "code" })?.value, !code.isEmpty, code.utf8.count <= 512 {
            return .code(code)
        }
        if let error = items.first(where: { $0.name == "error" })?.value, !error.isEmpty, error.utf8.count <= 128 {
            return .error(error)
        }
        return nil
    }
}
