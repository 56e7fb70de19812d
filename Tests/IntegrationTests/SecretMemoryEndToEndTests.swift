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
        .disabled("issue 15: unfinished harness (opening /proc/<pid>/mem of the held process fails: EACCES)"),
        arguments: ["--v1", "--v2"])
    func afterTheWriteTheKeyIsOnlyInMemoryACoreDumpLeavesOut(version: String) async throws {
        try requireTool("/usr/bin/strace", package: "strace")
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let accessKey = scratch.home + "/access.key"
        // -P: only the system calls naming access.key are traced, so only its rename is held (not settings.json's).
        let renames = "rename,renameat,renameat2"
        let traced = try Spawned(
            "/usr/bin/strace",
            [
                "-f", "-qq", "-o", scratch.path + "/strace", "-P", accessKey, "-e", "trace=\(renames)", "-e",
                "inject=\(renames):delay_exit=\(Self.holdMicroseconds)", Binaries.happy, "auth", "login", "--method",
                "mobile",
            ], environment: TestEnvironment.clean(["HAPPY_HOME_DIR": scratch.home, "HAPPY_SERVER_URL": server.url]),
            in: scratch.path)
        defer { traced.stopNow(SIGKILL) }
        try await traced.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(traced.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        #expect(try await server.approve(String(url), [version]) == 0)

        // access.key exists once renamed; from then on the process sits in the held rename.
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: accessKey) {
            try #require(Date() < deadline && traced.process.isRunning, "access.key never appeared: \(traced.stderr)")
            try await Task.sleep(for: .milliseconds(20))
        }
        let happy = try #require(child(of: traced.process.processIdentifier), "no happy process under strace")
        let started = Date()

        let json = try JSONParser.parse(String(contentsOfFile: accessKey, encoding: .utf8))
        let keyText = try #require(
            version == "--v1" ? json["secret"]?.stringValue : json["encryption"]?["machineKey"]?.stringValue)
        let key = try #require(Base64.decode(keyText))
        try #require(key.count == 32)
        let needles = [("raw key", key), ("base64 key", Array(keyText.utf8))]

        let memory = try ProcessMemory(pid: happy)
        let hits = try memory.find(needles)
        try #require(
            Date().timeIntervalSince(started) < Double(Self.holdMicroseconds) / 1e6 - 5, "the scan took too long")
        try #require(traced.process.isRunning, "happy was no longer held while its memory was read")

        let plain = hits.filter { !$0.region.isDumpExcluded }
        #expect(
            plain.isEmpty,
            "copies of the key outside MADV_DONTDUMP memory:\n\(plain.map(\.description).joined(separator: "\n"))")
        // The scan does see memory: the key itself is still held, in locked memory, at this point.
        #expect(hits.contains { $0.needle == "raw key" && $0.region.isDumpExcluded }, "\(hits)")
        print("\(version): \(hits.count) occurrence(s) of the key, \(plain.count) outside dd regions")
    }

}
