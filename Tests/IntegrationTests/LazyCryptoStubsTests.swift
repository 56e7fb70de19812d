import Foundation
import Testing

/// `make lint` (so CI) regenerates Sources/CLazyCrypto/stubs.c with scripts/gen-lazy-crypto.py and fails when the
/// committed file differs: a stale stub list is caught before a failed link, or a function `LazyCrypto.load()` never
/// resolves.
@Suite("OpenSSL stubs are current")
struct LazyCryptoStubsTests {
    static let script = Binaries.repositoryRoot + "/scripts/gen-lazy-crypto.py"
    static let stubs = Binaries.repositoryRoot + "/Sources/CLazyCrypto/stubs.c"

    @Test func theCommittedStubsAreWhatTheGeneratorWritesAndAStaleCopyFails() async throws {
        try requireTool("/usr/bin/python3", package: "python3")
        try requireTool("/usr/bin/nm", package: "binutils")
        let scratch = try Scratch()
        let current = try await Spawned.run(
            "/usr/bin/python3", [Self.script, "--check"], environment: TestEnvironment.clean(), in: scratch.path)
        #expect(current.status == 0, "\(current.stdout)\(current.stderr)")

        // One function gone from the list, as if the Swift code had started calling it after the last regeneration.
        let committed = try String(contentsOfFile: Self.stubs, encoding: .utf8)
        let stale = committed.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("ERR_clear_error") }.joined(separator: "\n")
        try #require(stale != committed)
        let copy = scratch.path + "/stubs.c"
        try stale.write(toFile: copy, atomically: true, encoding: .utf8)
        let checked = try await Spawned.run(
            "/usr/bin/python3", [Self.script, "--check", copy], environment: TestEnvironment.clean(),
            in: scratch.path)
        #expect(checked.status == 1, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stderr.contains("is stale"), "\(checked.stderr)")
        #expect(checked.stdout.contains("+void ERR_clear_error(void)"), "\(checked.stdout)")
    }
}
