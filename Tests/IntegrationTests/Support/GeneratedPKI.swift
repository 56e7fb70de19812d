import Foundation

/// The test PKI of scripts/make-test-pki.sh, made once per test process. Its OCSP certificates name a responder on
/// `ocspPort`, where `OCSPResponder` runs.
enum GeneratedPKI {
    static let ocspPort = freeLoopbackPort()

    static let directory: String = {
        let dir = NSTemporaryDirectory() + "happy-pki-" + UUID().uuidString.prefix(8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Binaries.repositoryRoot + "/scripts/make-test-pki.sh", dir, String(ocspPort)]
        p.environment = TestEnvironment.clean()
        try? p.run()
        p.waitUntilExit()
        precondition(
            p.terminationStatus == 0,
            "make-test-pki.sh failed: it needs openssl, which scripts/install-deps.sh (make test) installs")
        atexit { try? FileManager.default.removeItem(atPath: GeneratedPKI.directory) }
        return dir
    }()

    static func path(_ name: String) -> String { directory + "/" + name }
}

/// A free TCP port on 127.0.0.1 (bound, read back, released).
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = loopbackAddress(port: 0)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Whether something listens on 127.0.0.1:`port` (a connection is made and closed at once).
func loopbackAccepts(port: Int) -> Bool { onLoopback(port: port, connect) }

/// Whether 127.0.0.1:`port` can be bound now (bound and released at once).
func loopbackCanBind(port: Int) -> Bool { onLoopback(port: port, bind) }

/// 127.0.0.1:`port` as a `sockaddr_in`.
private func loopbackAddress(port: Int) -> sockaddr_in {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return addr
}

/// `call` (connect or bind) on a fresh TCP socket with 127.0.0.1:`port`, the socket closed after; true on success.
private func onLoopback(port: Int, _ call: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = loopbackAddress(port: port)
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

/// A real nginx on a loopback port that terminates TLS, requires a client certificate signed by the test CA
/// (`ssl_verify_client on`, or `optional` for the browser hand-off, whose claim comes without one), strips any identity
/// headers a client sent and overwrites them from its verified certificate variables, then proxies to the local server
/// (forwarded mode, seed 000).
final class NginxProxy: @unchecked Sendable {
    let spawned: Spawned
    let url: String
    let scratch: Scratch

    static let executable = "/usr/sbin/nginx"

    /// `tlsDirectives`: extra nginx `server` directives, e.g. to pin TLS 1.2 and the client signature algorithms.
    init(upstream: String, verifyClient: String = "on", tlsDirectives: String = "") async throws {
        try requireTool(Self.executable, package: "nginx-light")
        scratch = try Scratch()
        let port = freeLoopbackPort()
        let dir = scratch.path
        let user = getuid() == 0 ? "user root root;" : ""
        let config = """
            \(user)
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(dir)/nginx.pid;
            error_log \(dir)/error.log warn;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(dir)/body; proxy_temp_path \(dir)/proxy;
                fastcgi_temp_path \(dir)/fastcgi; uwsgi_temp_path \(dir)/uwsgi; scgi_temp_path \(dir)/scgi;
                server {
                    listen 127.0.0.1:\(port) ssl;
                    ssl_certificate \(GeneratedPKI.path("server.pem"));
                    ssl_certificate_key \(GeneratedPKI.path("server.key"));
                    ssl_client_certificate \(GeneratedPKI.path("ca.pem"));
                    ssl_verify_client \(verifyClient);
                    \(tlsDirectives)
                    location / {
                        proxy_pass \(upstream);
                        proxy_set_header x-happier-client-cert-email "";
                        proxy_set_header x-happier-client-cert-upn "";
                        proxy_set_header x-happier-client-cert-sha256 "";
                        proxy_set_header x-happier-client-cert-subject $ssl_client_s_dn;
                        proxy_set_header x-happier-client-cert-issuer $ssl_client_i_dn;
                    }
                }
            }
            """
        try config.write(toFile: dir + "/nginx.conf", atomically: true, encoding: .utf8)
        spawned = try Spawned(
            Self.executable, ["-p", dir, "-c", dir + "/nginx.conf", "-e", dir + "/error.log"],
            environment: TestEnvironment.clean(), in: dir)
        url = "https://127.0.0.1:\(port)"
        // Ready when the port accepts connections.
        for _ in 0..<200 {
            if loopbackAccepts(port: port) { return }
            guard spawned.process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let log = (try? String(contentsOfFile: dir + "/error.log", encoding: .utf8)) ?? ""
        throw SpawnError.exited(stdout: spawned.stdout, stderr: spawned.stderr + log)
    }

    /// Stops nginx before the caller returns (usable in `defer`). SIGKILL: a single-process nginx
    /// (master_process off) may linger on SIGTERM; it holds nothing to flush.
    func stopNow() { spawned.stopNow(SIGKILL) }
}

/// A real `openssl ocsp` responder for the test PKI on `GeneratedPKI.ocspPort`, answering from the CA database
/// (`ocsp-index.txt`: ocsp-revoked revoked, ocsp-unknown absent), signed by the CA itself.
final class OCSPResponder: @unchecked Sendable {
    let spawned: Spawned
    let scratch: Scratch
    static var url: String { "http://127.0.0.1:\(GeneratedPKI.ocspPort)/" }

    /// `revoking`: serial numbers (hex) of further certificates to mark revoked (keyCompromise) in a copy of the index.
    /// `signer`: the PKI name whose certificate and key sign the answers (`other-ca` makes a rogue responder).
    init(revoking extra: [String] = [], signer: String = "ca") async throws {
        await ResponderSlot.shared.acquire()
        do { (scratch, spawned) = try await Self.launch(revoking: extra, signer: signer) } catch {
            await ResponderSlot.shared.release()
            throw error
        }
    }

    private static func launch(revoking extra: [String], signer: String) async throws -> (Scratch, Spawned) {
        let scratch = try Scratch()
        let pki = GeneratedPKI.path
        var index = pki("ocsp-index.txt")
        if !extra.isEmpty {
            var text = try String(contentsOfFile: index, encoding: .utf8)
            for serial in extra {
                text += "R\t301231235959Z\t261101000000Z,keyCompromise\t\(serial)\tunknown\t/CN=extra\n"
            }
            index = scratch.path + "/index.txt"
            try text.write(toFile: index, atomically: true, encoding: .utf8)
        }
        let spawned = try Spawned(
            "/usr/bin/openssl",
            [
                "ocsp", "-index", index, "-port", String(GeneratedPKI.ocspPort), "-rsigner",
                pki("\(signer).pem"), "-rkey", pki("\(signer).key"), "-CA", pki("ca.pem"), "-nmin", "5",
            ],
            environment: ["PATH": "/usr/bin:/bin"], in: scratch.path)
        // Ready once it says so. (Not by probing the port: the single-threaded responder then waits on the probe's
        // connection and answers nobody else.)
        for _ in 0..<400 {
            if (spawned.stdout + spawned.stderr).contains("waiting for OCSP client connections") {
                return (scratch, spawned)
            }
            guard spawned.process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        kill(spawned.process.processIdentifier, SIGKILL)
        spawned.process.waitUntilExit()
        throw SpawnError.exited(stdout: spawned.stdout, stderr: spawned.stderr)
    }

    /// Synchronous, so a `defer` frees the port before the next test starts its own responder.
    func stop() {
        kill(spawned.process.processIdentifier, SIGKILL)
        spawned.process.waitUntilExit()
        Task { await ResponderSlot.shared.release() }
    }
}

/// The OCSP port is one per test process, and suites run in parallel: one responder (or one test that needs none
/// running) at a time.
actor ResponderSlot {
    static let shared = ResponderSlot()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}
