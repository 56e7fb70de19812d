import Foundation
import HappyKit

/// `happy-test-server serve` on 127.0.0.1 and an ephemeral port, spawned as a real process.
final class LocalServer: @unchecked Sendable {
    let spawned: Spawned
    let url: String
    /// The built-in account's master secret, fixed so tests can check what lands in access.key.
    let secretBase64: String
    let scratch: Scratch

    init(environment extra: [String: String] = [:]) async throws {
        scratch = try Scratch()
        secretBase64 = Base64.encode((0..<32).map { UInt8(($0 * 7 + 3) & 0xFF) })
        let env = TestEnvironment.clean(["HAPPY_TEST_SERVER_SECRET": secretBase64].merging(extra) { $1 })
        spawned = try Spawned(Binaries.server, ["serve", "--port", "0"], environment: env, in: scratch.path)
        try await spawned.waitForOutput { $0.contains("\n") }
        guard let line = spawned.stdout.split(separator: "\n").first, line.hasPrefix("listening on ") else {
            throw SpawnError.exited(stdout: spawned.stdout, stderr: spawned.stderr)
        }
        url = String(line.dropFirst("listening on ".count))
    }

    /// Stops the server before the caller returns (usable in `defer`): SIGTERM, then waits for the exit.
    func stopNow() { spawned.stopNow(SIGTERM) }

    /// A control call (`POST /_test/...`) with a JSON body.
    func control(_ path: String, json: String) async throws {
        let response = try await withTransport { transport in
            try await transport.send(
                HTTPRequest(
                    method: "POST", url: url + path, headers: ["Content-Type": "application/json"],
                    body: Array(json.utf8)))
        }
        guard response.status == 200 else {
            throw SpawnError.exited(stdout: "", stderr: "control \(path): \(response.status)")
        }
    }

    /// Waits until every fault set with `/_test/faults` has been served (failPolls and dropPolls both 0): the
    /// client under test has met them all.
    func waitUntilFaultsAreServed(seconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let body = try await withTransport { transport in
                try await transport.send(HTTPRequest(method: "GET", url: url + "/_test/faults")).body
            }
            let faults = try JSONParser.parse(String(decoding: body, as: UTF8.self))
            if faults["failPolls"]?.intValue == 0 && faults["dropPolls"]?.intValue == 0 { return }
            guard Date() < deadline else { throw SpawnError.timedOut(stdout: "", stderr: "faults left: \(faults)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// `happy-test-server approve` as the phone: returns its exit status.
    func approve(_ terminalURL: String, _ flags: [String] = []) async throws -> Int32 {
        let env = TestEnvironment.clean(["HAPPY_TEST_SERVER_SECRET": secretBase64])
        let r = try await Spawned.run(
            Binaries.server, ["approve", "--server", url] + flags + [terminalURL],
            environment: env, in: scratch.path)
        return r.status
    }
}

/// Runs `body` with a fresh `AsyncHTTPTransport` (no proxy, system trust) and shuts it down before returning, on
/// the throwing path too.
func withTransport<T: Sendable>(_ body: (AsyncHTTPTransport) async throws -> T) async throws -> T {
    let transport = try AsyncHTTPTransport(options: TransportOptions(), environment: [:])
    do {
        let result = try await body(transport)
        await transport.shutdown()
        return result
    } catch {
        await transport.shutdown()
        throw error
    }
}
