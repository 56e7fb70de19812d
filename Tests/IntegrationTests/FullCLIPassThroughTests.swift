import Foundation
import Testing

/// Living beside the full happy CLI (PROTOCOL §7), on the real binary: a command line this `happy` does not implement
/// is exec'ed into a stand-in full CLI (a shell script named `happy`) with its arguments byte for byte and its exit
/// status passed back; `auth …` never leaves; copies of ourselves on PATH are skipped without a loop.
@Suite("pass-through to the full happy CLI", .serialized)
struct FullCLIPassThroughTests {
    /// Arguments with spaces, an empty one, a flag-looking one, non-ASCII and a newline.
    static let awkward = ["daemon", "start", "", "two words", "--resume", "ünïcødé", "line\nbreak", "-h"]

    let scratch: Scratch
    /// The stand-in: writes each argument NUL-terminated to `$STANDIN_OUT`, exits `$STANDIN_STATUS` (default 42).
    let standIn: String
    let record: String

    init() throws {
        scratch = try Scratch()
        record = scratch.path + "/standin-args"
        standIn = try Self.makeDirectory(scratch.path + "/full") + "/happy"
        try Self.executable(
            standIn,
            "#!/bin/sh\n: > \"$STANDIN_OUT\"\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> \"$STANDIN_OUT\"; done\n"
                + "exit \"${STANDIN_STATUS:-42}\"\n")
    }

    static func makeDirectory(_ path: String) throws -> String {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func executable(_ path: String, _ text: String) throws {
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o755])
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }

    /// A directory holding a symlink `happy` → the built binary.
    func symlinkToUs(_ name: String) throws -> String {
        let dir = try Self.makeDirectory(scratch.path + "/" + name)
        try FileManager.default.createSymbolicLink(atPath: dir + "/happy", withDestinationPath: Binaries.happy)
        return dir
    }

    /// A directory holding a copy of the built binary (another inode: a second installation of this happy).
    func copyOfUs(_ name: String) throws -> String {
        let dir = try Self.makeDirectory(scratch.path + "/" + name)
        try FileManager.default.copyItem(atPath: Binaries.happy, toPath: dir + "/happy")
        return dir
    }

    func run(
        _ arguments: [String], via executable: String = Binaries.happy, path: String, extra: [String: String] = [:],
        seconds: Double = 30
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        var env = TestEnvironment.clean(
            ["PATH": path, "STANDIN_OUT": record, "HAPPY_HOME_DIR": scratch.home].merging(extra) { $1 })
        env.removeValue(forKey: "HAPPY_PASSTHROUGH_SKIP")
        return try await Spawned.run(executable, arguments, environment: env, in: scratch.path, seconds: seconds)
    }

    /// What the stand-in received, or nil when it never ran.
    var received: [String]? {
        guard let data = FileManager.default.contents(atPath: record) else { return nil }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    @Test func anUnknownCommandLineReachesTheFullCLIByteForByteAndItsStatusComesBack() async throws {
        let dir = (standIn as NSString).deletingLastPathComponent
        let r = try await run(Self.awkward, path: "\(try symlinkToUs("self")):\(dir)")
        #expect(r.status == 42, "stderr: \(r.stderr)")
        #expect(received == Self.awkward)
        let bytes = try #require(FileManager.default.contents(atPath: record))
        #expect(bytes == Data((Self.awkward.joined(separator: "\0") + "\0").utf8))

        let seven = try await run(["--resume"], path: dir, extra: ["STANDIN_STATUS": "7"])
        #expect(seven.status == 7 && received == ["--resume"])
        let none = try await run([], path: dir)
        #expect(none.status == 42 && received == [])
    }

    @Test func ourOwnCommandsAreNeverPassedOn() async throws {
        let dir = (standIn as NSString).deletingLastPathComponent
        for (arguments, status) in [
            (["auth", "status"], Int32(1)), (["auth", "status", "--json"], 1), (["auth", "frobnicate"], 64),
            (["auth"], 0), (["--version"], 0), (["--help"], 0), (["-h"], 0), (["help"], 0), (["help", "auth"], 0),
            (["auth", "token"], 1),
        ] {
            let r = try await run(arguments, path: dir)
            #expect(r.status == status, "\(arguments): \(r.stderr)")
            #expect(received == nil, "\(arguments) reached the full CLI")
        }
    }

    /// PATH: a symlink to us, then a copy of us (another inode), then the full CLI. The symlink is us by inode; the
    /// copy passes the line on with both identities marked, so it skips us and itself and finds the full CLI.
    @Test func ourselvesTwiceOnPathAreSkipped() async throws {
        let link = try symlinkToUs("self-link")
        let copy = try copyOfUs("self-copy")
        let dir = (standIn as NSString).deletingLastPathComponent
        let r = try await run(Self.awkward, via: link + "/happy", path: "\(link):\(copy):\(dir)")
        #expect(r.status == 42, "stderr: \(r.stderr)")
        #expect(received == Self.awkward)
    }

    /// Only copies of ourselves on PATH: no loop, the usage and the not-installed line, exit 64.
    @Test func twoCopiesOfUsWithoutAFullCLINeverLoop() async throws {
        let link = try symlinkToUs("self-link")
        let copy = try copyOfUs("self-copy")
        let started = Date()
        let r = try await run(["daemon", "start"], via: link + "/happy", path: "\(copy):\(link)", seconds: 15)
        #expect(r.status == 64, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("The full happy CLI (sessions, daemon) is not installed"))
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func happyFullCLINamesItExplicitly() async throws {
        let elsewhere = try Self.makeDirectory(scratch.path + "/elsewhere") + "/full-happy.mjs"
        try FileManager.default.copyItem(atPath: standIn, toPath: elsewhere)
        let r = try await run(Self.awkward, path: "/nonexistent", extra: ["HAPPY_FULL_CLI": elsewhere])
        #expect(r.status == 42 && received == Self.awkward, "stderr: \(r.stderr)")

        let link = try symlinkToUs("self-link")
        let refused = try await run(["daemon"], path: "/nonexistent", extra: ["HAPPY_FULL_CLI": link + "/happy"])
        #expect(refused.status == 64 && received == Self.awkward)  // the record is from the first run only
        #expect(
            refused.stderr == "happy: HAPPY_FULL_CLI=\(link)/happy is this happy itself, not the full happy CLI; "
                + "point it at the full CLI (installed by npm) or unset it.\n")

        let missing = try await run(["daemon"], path: "/nonexistent", extra: ["HAPPY_FULL_CLI": scratch.path + "/nope"])
        #expect(missing.status == 1)
        #expect(
            missing.stderr == "happy: cannot run the full happy CLI \(scratch.path)/nope: No such file or directory\n")
    }

    @Test func withoutAFullCLIUsageAndOneLine() async throws {
        let empty = try Self.makeDirectory(scratch.path + "/empty")
        let unknown = try await run(["daemon", "start"], path: empty)
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("Usage: happy <subcommand>") || unknown.stderr.contains("USAGE: happy"))
        #expect(
            unknown.stderr.hasSuffix(
                "The full happy CLI (sessions, daemon) is not installed; this happy only links the terminal (happy auth). "
                    + "Install it with `npm install -g happy` (after this one on PATH), or set HAPPY_FULL_CLI to its path.\n"
            ))
        let bare = try await run([], path: empty)
        #expect(bare.status == 0)
        #expect(bare.stdout.contains("USAGE: happy <subcommand>"))
        #expect(bare.stdout.contains("handed unchanged"))  // --help mentions the pass-through
        #expect(bare.stdout.hasSuffix("or set HAPPY_FULL_CLI to its path.\n"))
    }
}
