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
/// a 404 and changes nothing. Plain POSIX sockets on a thread of its own, so a slow client never blocks a Swift task.
final class LoopbackListener: @unchecked Sendable {  // `state` is behind `lock`; the rest is immutable
    let port: Int
    /// The random path, with its leading "/".
    let path: String
    private let fd: Int32
    private let lock = PThreadLock()
    private var closed = false

    /// The largest request head read; a browser's GET is far smaller.
    static let maximumRequestBytes = 16 * 1024
    /// How long one connection may take to send its request head.
    static let readTimeoutSeconds = 3

    init(path: String) throws {
        self.path = path
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw Self.failure("socket") }
        _ = fcntl(socketFD, F_SETFD, FD_CLOEXEC)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        guard bound == 0, listen(socketFD, 16) == 0 else {
            let error = Self.failure("bind")
            Glibc.close(socketFD)
            throw error
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        guard named == 0 else {
            let error = Self.failure("getsockname")
            Glibc.close(socketFD)
            throw error
        }
        fd = socketFD
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close() }

    /// Stops listening; a pending `waitForCallback` ends with `CancellationError`. Safe to call more than once.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    private var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    /// Serves requests until the one callback arrives, then closes the listener and returns it. Task cancellation
    /// closes the listener and throws `CancellationError`.
    func waitForCallback() async throws -> HandoffCallback {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<HandoffCallback, any Error>) in
                PThread.detach(name: "happy-loopback") { [self] in
                    let result = serve()
                    close()
                    if let result {
                        continuation.resume(returning: result)
                    } else {
                        continuation.resume(throwing: CancellationError())
                    }
                }
            }
        } onCancel: {
            close()
        }
    }

    /// The accept loop; nil once the listener was closed from outside.
    private func serve() -> HandoffCallback? {
        while !isClosed {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, 200)
            if polled < 0 && errno != EINTR { return nil }
            guard polled > 0 else { continue }
            if isClosed { return nil }
            let client = accept(fd, nil, nil)
            guard client >= 0 else {
                if errno == EINTR || errno == ECONNABORTED || errno == EAGAIN { continue }
                return nil
            }
            defer { Glibc.close(client) }
            if let callback = handle(client) { return callback }
        }
        return nil
    }

    /// Reads one request head and answers it; returns the callback when this request was the one.
    private func handle(_ client: Int32) -> HandoffCallback? {
        var timeout = timeval(tv_sec: Self.readTimeoutSeconds, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var head = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 2048)
        let terminator: [UInt8] = [13, 10, 13, 10]
        while head.count < Self.maximumRequestBytes {
            let got = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            head += buffer[0..<got]
            if head.count >= 4, Self.contains(head, terminator) { break }
        }
        let callback = HandoffRequest(head: head).callback(forPath: path)
        if let callback {
            respond(client, status: "200 OK", body: Self.page(for: callback))
        } else {
            respond(client, status: "404 Not Found", body: "<!doctype html><title>Not found</title><p>Not found.</p>\n")
        }
        return callback
    }

    private func respond(_ client: Int32, status: String, body: String) {
        let bytes = Array(body.utf8)
        let text =
            "HTTP/1.1 \(status)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(bytes.count)\r\n"
            + "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n"
        let all = Array(text.utf8) + bytes
        var sent = 0
        while sent < all.count {
            let n = all[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            sent += n
        }
    }

    static func page(for callback: HandoffCallback) -> String {
        let message =
            switch callback {
            case .code: "Happy received your sign-in. You can close this tab and return to the terminal."
            case .error:
                "Happy could not sign you in with this certificate; the terminal says why. You can close this tab."
            }
        return "<!doctype html><meta charset=\"utf-8\"><title>Happy</title><p>\(message)</p>\n"
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }

    private static func failure(_ call: String) -> HappyError {
        .failed("cannot listen on 127.0.0.1 for the browser hand-off (\(call): \(String(cString: strerror(errno))))")
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
