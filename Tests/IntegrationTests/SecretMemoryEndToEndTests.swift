import Foundation
import HappyKit
import Testing

/// The secret path of a login (issue 15, README "Security"): the legacy secret (v1) and the machine key (v2) live
/// only in locked memory that a core dump leaves out. The real `happy` logs in against the local server and is held
/// by strace just after it renamed `access.key` into place; the test learns the secret from the written file, then
/// scans the live process region by region: the raw key and its base64 may only be in regions whose VmFlags contain
/// `dd` (libsodium's guarded allocations, madvise(MADV_DONTDUMP)).
@Suite("secrets in memory end to end", .serialized)
struct SecretMemoryEndToEndTests {
    /// How long the rename onto access.key is held: the scan takes a second or two.
    static let holdMicroseconds = 30_000_000

    @Test(
        .enabled(if: Probe.ptracePermitted, "ptrace is not permitted here: strace cannot hold the process"),
        arguments: ["--v1", "--v2"])
    func afterTheWriteTheKeyIsOnlyInMemoryACoreDumpLeavesOut(version: String) async throws {
        try requireTool("/usr/bin/strace", package: "strace")
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let accessKey = scratch.home + "/access.key"
        let log = scratch.path + "/strace"
        // A fresh login commits settings.json, then access.key (CredentialsStore.store): the second rename of the
        // thread that stores them is the one onto access.key, held on its way out. (strace 6.1's -P does not match
        // a rename's target, so the rename is picked by count; the log below confirms which one is held.)
        let renames = "rename,renameat,renameat2"
        let traced = try Spawned(
            "/usr/bin/strace",
            [
                "-f", "-qq", "-o", log, "-e", "trace=\(renames)", "-e",
                "inject=\(renames):delay_exit=\(Self.holdMicroseconds):when=2", Binaries.happy, "auth", "login",
                "--method", "mobile",
            ], environment: TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home, "HAPPY_SERVER_URL": server.url]),
            in: scratch.path)
        defer { traced.stopNow(SIGKILL) }
        try await traced.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(traced.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        #expect(try await server.approve(String(url), [version]) == 0)

        // strace logs the held rename when it returns; from then on the process sits in it.
        let deadline = Date().addingTimeInterval(20)
        var held: Substring?
        while held == nil {
            try #require(
                Date() < deadline && traced.process.isRunning,
                "the rename onto access.key was never held: \(traced.stderr)\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")"
            )
            try await Task.sleep(for: .milliseconds(20))
            let lines = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            held = lines.split(separator: "\n").first { $0.contains("DELAYED") }
        }
        let started = Date()
        try #require(
            held?.contains("\"\(accessKey)\") = 0") == true, "the held rename is not onto access.key: \(held!)")
        let happy = try #require(child(of: traced.process.processIdentifier), "no happy process under strace")
        let name = try String(contentsOfFile: "/proc/\(happy)/comm", encoding: .utf8)
        try #require(name.hasPrefix("happy"), "the child of strace is \(name), not happy")

        let json = try JSONParser.parse(String(contentsOfFile: accessKey, encoding: .utf8))
        let keyText = try #require(
            version == "--v1" ? json["secret"]?.stringValue : json["encryption"]?["machineKey"]?.stringValue)
        if version == "--v1" {
            // The legacy secret is the account's master secret, which the phone handed over.
            #expect(keyText == server.secretBase64)
        }
        let token = try #require(json["token"]?.stringValue)
        let key = try #require(Base64.decode(keyText))
        try #require(key.count == 32)
        // Standard base64 as access.key holds it; the token is no secret of this kind, but a scan that is reading
        // the process's memory must find it (the process still holds it to print the result).
        let needles = [("raw key", key), ("base64 key", Array(keyText.utf8)), ("token", Array(token.utf8))]

        let memory = try ProcessMemory(pid: happy)
        let (hits, bytesRead) = try memory.find(needles)
        try #require(
            Date().timeIntervalSince(started) < Double(Self.holdMicroseconds) / 1e6 - 5, "the scan took too long")
        try #require(
            traced.process.isRunning && kill(happy, 0) == 0, "happy was no longer held while its memory was read")

        // The scan did read the process: megabytes of it, and the token the process still holds.
        #expect(bytesRead > 1 << 20, "only \(bytesRead) bytes read from \(memory.regions.count) regions")
        #expect(hits.contains { $0.needle == "token" }, "the token was not found in \(bytesRead) bytes")
        let keys = hits.filter { $0.needle != "token" }
        let plain = keys.filter { !$0.region.isDumpExcluded }
        #expect(
            plain.isEmpty,
            "copies of the key outside MADV_DONTDUMP memory:\n\(plain.map(\.description).joined(separator: "\n"))")
        // The key itself is still held, in locked memory, at this point.
        #expect(keys.contains { $0.needle == "raw key" && $0.region.isDumpExcluded }, "\(keys)")
        print(
            "\(version): \(bytesRead) bytes in \(memory.regions.count) regions; \(keys.count) copies of the key, "
                + "\(plain.count) outside dd regions:\n\(keys.map(\.description).joined(separator: "\n"))")
    }
}
