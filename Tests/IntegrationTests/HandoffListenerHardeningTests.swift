import Foundation
import HappyKit
import Testing

/// The hand-off listener against hostile local clients (issue 18, items 1 and 2), with the real binary and server: a
/// client that trickles its request cannot hold the login or the real callback; another user can neither read the
/// listener's path from any process's argv nor deliver a claim code of their own; the browser child is reaped.
@Suite("the hand-off listener against hostile local clients", .serialized)
struct HandoffListenerHardeningTests {
    typealias Handoff = CertificateHandoffEndToEndTests

    /// One connection sends `GET / HTTP/1.1\r\n` and then one byte every 2 s, another sends nothing: the valid
    /// callback queued behind them still gets through and the login succeeds well within `--timeout`.
    @Test func aTricklingClientCannotDelayTheCallbackOrTheDeadline() async throws {
        let server = try await Handoff.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let started = Date()
        let login = try await Handoff().startLogin(server.url, scratch, ["--no-browser", "--timeout", "12"])
        let port = try #require(URLComponents(string: login.returnTo)?.port)
        let trickler = Trickler(port: port)
        defer { trickler.stop() }
        try await Task.sleep(for: .milliseconds(300))  // the trickler is being served before the callback comes

        let hops = try await TestBrowser(identity: "alice").visit(login.startURL)
        #expect(hops.last?.status == 200, "\(hops.map { ($0.url, $0.status) })")
        #expect(await login.process.wait(seconds: 30) == 0, "stderr: \(login.process.stderr)")
        let took = Date().timeIntervalSince(started)
        #expect(took < 12, "the login took \(took) s")
        #expect(trickler.bytesSent > 1)
    }

    /// With no callback at all, a trickling client does not keep the login past `--timeout`: it ends with 75 at
    /// the deadline, not when the trickler stops.
    @Test func aTricklingClientCannotHoldTheLoginPastItsTimeout() async throws {
        let server = try await Handoff.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let started = Date()
        let login = try await Handoff().startLogin(server.url, scratch, ["--no-browser", "--timeout", "4"])
        let port = try #require(URLComponents(string: login.returnTo)?.port)
        let trickler = Trickler(port: port)
        defer { trickler.stop() }
        #expect(await login.process.wait(seconds: 30) == 75)
        let took = Date().timeIntervalSince(started)
        #expect(took < 6, "the login took \(took) s")
        #expect(Handoff().nothingWritten(scratch))
    }

    /// A second uid reads every `/proc/*/cmdline` while the browser runs: the listener's path is in none of them
    /// (the browser got a private page). Given the path anyway (here: from our own stdout), its callback carrying a
    /// code for its own account is refused (connection closed, nothing written), and the real one still works.
    @Test(.enabled(if: getuid() == 0, "needs root to run a process as uid 65534 (setpriv)"))
    func anotherUserCanNeitherReadThePathNorDeliverTheCallback() async throws {
        try requireTool("/usr/bin/setpriv", package: "util-linux")
        let server = try await Handoff.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        chmod(scratch.path, 0o755)
        // A browser that stays up, as a cold-started one does, with whatever it was given in its argv.
        let browser = scratch.path + "/slow-browser.sh"
        try "#!/bin/sh\nprintf '%s\\n' \"$1\" >> \(scratch.path)/opened\nsleep 60\n"
            .write(toFile: browser, atomically: true, encoding: .utf8)
        chmod(browser, 0o755)
        var environment = try Handoff.environment(scratch)
        environment["BROWSER"] = browser
        let process = try Spawned(
            Binaries.happy,
            [
                "auth", "login", "--method", "certificate", "--server", server.url, "--ca", GeneratedPKI.path("ca.pem"),
                "--timeout", "40",
            ], environment: environment, in: scratch.path)
        defer { Self.killBrowsers(of: scratch) }
        try await process.waitForOutput { $0.contains("returnTo=") && $0.hasSuffix("\n") }
        let startURL = try #require(process.stdout.split(separator: "\n").first { $0.contains("/mtls/start") })
        let returnTo = try #require(
            URLComponents(string: String(startURL))?.queryItems?.first { $0.name == "returnTo" }?.value)
        let target = try #require(URLComponents(string: returnTo))
        let path = target.path
        let port = try #require(target.port)
        try await waitFor { FileManager.default.fileExists(atPath: scratch.path + "/opened") }

        // 1. The path is in no process's argv, as uid 65534 sees them.
        let scan = try await Self.asNobody(
            "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\" 2>/dev/null; echo; done", in: scratch)
        #expect(scan.stdout.contains("slow-browser.sh"), "the scan must see the browser: \(scan)")
        #expect(!scan.stdout.contains(String(path.dropFirst())), "the listener path is readable in an argv")
        // The browser was given a private page (0600 in a 0700 directory) that uid 65534 cannot read.
        let opened = try String(contentsOfFile: scratch.path + "/opened", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(opened.hasPrefix("file:///"), "\(opened)")
        let page = String(opened.dropFirst("file://".count))
        #expect(try String(contentsOfFile: page, encoding: .utf8).contains(startURL))
        #expect(Self.mode(page) == 0o600 && Self.mode((page as NSString).deletingLastPathComponent) == 0o700)
        let peek = try await Self.asNobody("cat '\(page)'", in: scratch)
        #expect(peek.status != 0 && !peek.stdout.contains(String(path.dropFirst())))

        // 2. A callback from uid 65534 with a valid code for its own account is closed unanswered.
        let hops = try await TestBrowser(identity: "soon").visit(
            String(startURL), stopBefore: "http://127.0.0.1:\(port)")
        let location = try #require(hops.last?.location)
        let attackerCallback = try #require(URLComponents(string: location))
        let request =
            "GET \(attackerCallback.percentEncodedPath)?\(attackerCallback.percentEncodedQuery ?? "") HTTP/1.1"
        let delivered = try await Self.asNobody(
            "exec 3<>/dev/tcp/127.0.0.1/\(port) && printf '%s\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' '\(request)' >&3 && "
                + "timeout 10 cat <&3", in: scratch)
        #expect(!delivered.stdout.contains("200 OK"), "uid 65534 delivered the callback: \(delivered)")
        try await Task.sleep(for: .milliseconds(300))
        #expect(process.process.isRunning, "stderr: \(process.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/access.key"), "the attacker's login stored")

        // 3. The user's own browser still logs in, as the user's own account.
        let good = try await TestBrowser(identity: "alice").visit(String(startURL))
        #expect(good.last?.status == 200)
        #expect(await process.wait(seconds: 30) == 0, "stderr: \(process.stderr)")
        #expect(process.stdout.contains("logged this machine in as alice@example.com"), "\(process.stdout)")
        #expect(!FileManager.default.fileExists(atPath: page), "the page outlived the login")
        #expect(!FileManager.default.fileExists(atPath: (page as NSString).deletingLastPathComponent))
    }

    /// A browser command that exits at once (xdg-open handing over to a running browser) is reaped: `happy` has no
    /// zombie child while it waits.
    @Test func theBrowserChildIsReaped() async throws {
        let server = try await Handoff.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await Handoff().startLogin(server.url, scratch, ["--timeout", "20"])
        try await waitFor { FileManager.default.fileExists(atPath: scratch.path + "/opened") }
        try await Task.sleep(for: .milliseconds(500))
        let pid = login.process.process.processIdentifier
        #expect(Self.zombieChildren(of: pid).isEmpty, "zombies: \(Self.zombieChildren(of: pid))")
        login.process.stopNow(SIGINT)
    }

    /// The login reports who the server logged it in as; a server without `/v1/account/profile` gets a short note
    /// and the login stands.
    @Test func theLoginSaysWhichAccountItIs() async throws {
        let server = try await Handoff.directServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let login = try await Handoff().startLogin(server.url, scratch, ["--no-browser"])
        _ = try await TestBrowser(identity: "alice").visit(login.startURL)
        #expect(await login.process.wait(seconds: 30) == 0, "stderr: \(login.process.stderr)")
        #expect(login.process.stdout.contains("The server logged this machine in as alice@example.com."))
    }

    // MARK: Helpers

    static func asNobody(_ script: String, in scratch: Scratch) async throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        try await Spawned.run(
            "/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/bash", "-c", script],
            environment: ["PATH": "/usr/bin:/bin"], in: scratch.path, seconds: 30)
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    /// Pids whose parent is `pid` and whose state is Z.
    static func zombieChildren(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && fields[0] == "Z" && Int32(fields[1]) == pid
        }
    }

    /// Ends the slow browser scripts of this test (they sleep 60 s otherwise).
    static func killBrowsers(of scratch: Scratch) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in entries.compactMap({ Int32($0) }) {
            guard let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                cmdline.contains(scratch.path + "/slow-browser.sh")
            else { continue }
            kill(pid, SIGKILL)
        }
    }

    func waitFor(seconds: Double = 10, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw SpawnError.timedOut(stdout: "", stderr: "condition not met") }
            try await Task.sleep(for: .milliseconds(25))
        }
    }
}

/// Two local connections to the listener: one sends `GET / HTTP/1.1\r\n` and then one byte every 2 s, the other
/// sends nothing. A thread of its own until `stop()`.
final class Trickler: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var sent = 0
    var bytesSent: Int { lock.withLock { sent } }

    init(port: Int) {
        Thread.detachNewThread { [self] in run(port: port) }
    }

    func stop() { lock.withLock { stopped = true } }

    private func run(port: Int) {
        let slow = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer {
            close(slow)
            close(silent)
        }
        guard CertificateHandoffEndToEndTests.connect(slow, "127.0.0.1", port) == 0 else { return }
        _ = CertificateHandoffEndToEndTests.connect(silent, "127.0.0.1", port)
        var bytes = Array("GET / HTTP/1.1\r\n".utf8)
        for _ in 0..<40 {
            if lock.withLock({ stopped }) { return }
            let n = bytes.withUnsafeBytes { send(slow, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            lock.withLock { sent += n }
            bytes = Array("X".utf8)
            for _ in 0..<20 where !lock.withLock({ stopped }) { usleep(100_000) }
        }
    }
}
