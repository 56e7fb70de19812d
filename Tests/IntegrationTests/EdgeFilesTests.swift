import Foundation
import HappyKit
import Testing

/// Files at the edges, with the real binary: FIFOs and devices where files should be, oversized files, homes that
/// are shared, foreign, read-only or full, and temporary files a killed run left behind.
@Suite("edges: files", .serialized)
struct EdgeFilesTests {
    func env(_ home: String, _ extra: [String: String] = [:]) -> [String: String] {
        TestEnvironment.clean(["HAPPY_HOME_DIR": home].merging(extra) { $1 })
    }

    func mode(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_mode & 0o7777) : -1
    }

    func loggedIn(_ home: String) throws {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try #"{"secret": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "token": "tok.en"}"#
            .write(toFile: home + "/access.key", atomically: true, encoding: .utf8)
        try "{\n  \"machineId\": \"m-1\"\n}".write(toFile: home + "/settings.json", atomically: true, encoding: .utf8)
    }

    /// Logs `home` in through the local server's phone; returns the login's stderr.
    func login(_ home: String, _ server: LocalServer, in scratch: Scratch, _ args: [String] = []) async throws -> (
        Int32, String
    ) {
        let login = try Spawned(
            Binaries.happy, ["auth", "login", "--method", "mobile", "--timeout", "30"] + args,
            environment: env(home, ["HAPPY_SERVER_URL": server.url]), in: scratch.path)
        try await login.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(login.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        #expect(try await server.approve(String(url)) == 0)
        return (await login.wait(), login.stderr)
    }

    /// A shared 1777 directory used as the home keeps its mode (and its sticky bit); happy warns instead.
    @Test func aHomeHappyDidNotCreateIsNeverChmodded() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let shared = scratch.path + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        chmod(shared, 0o1777)
        let (status, stderr) = try await login(shared, server, in: scratch)
        #expect(status == 0, "\(stderr)")
        #expect(mode(shared) == 0o1777, "mode is now \(String(mode(shared), radix: 8))")
        #expect(stderr.contains("accessible by group or others (mode 777)"), "\(stderr)")
        #expect(mode(shared + "/access.key") == 0o600)

        chmod(shared + "/access.key", 0o644)
        let report = try await Spawned.run(
            Binaries.happy, ["auth", "status"], environment: env(shared), in: scratch.path)
        #expect(report.status == 0)
        #expect(report.stderr.contains("access.key is readable by group or others (mode 644)"), "\(report.stderr)")
        #expect(report.stderr.contains("accessible by group or others"))

        // logout does not chmod it either, and keeps it (it is not empty of others' files: it is ours to leave).
        let logout = try await Spawned.run(
            Binaries.happy, ["auth", "logout", "--yes"], environment: env(shared), in: scratch.path)
        #expect(logout.status == 0)
        #expect(!FileManager.default.fileExists(atPath: shared) || mode(shared) == 0o1777)
    }

    /// A home happy creates is 0700 (parents included), whatever the umask.
    @Test func aHomeHappyCreatesIs0700() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let home = scratch.path + "/a/b/home"
        let (status, stderr) = try await login(home, server, in: scratch)
        #expect(status == 0, "\(stderr)")
        #expect(mode(home) == 0o700 && mode(scratch.path + "/a/b") == 0o700)
        #expect(!stderr.contains("accessible by group"))
    }

    /// FIFOs, devices and oversized files where the home's files should be: one line, no hang, no memory blow-up.
    @Test(arguments: ["access.key", "settings.json", "daemon.state.json"])
    func aFIFOOrDeviceOrHugeFileNeverHangs(file: String) async throws {
        for kind in ["fifo", "zero", "huge"] {
            let scratch = try Scratch()
            try FileManager.default.createDirectory(atPath: scratch.home, withIntermediateDirectories: true)
            let path = scratch.home + "/" + file
            switch kind {
            case "fifo": #expect(mkfifo(path, 0o600) == 0)
            case "zero": try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
            default: #expect(FileManager.default.createFile(atPath: path, contents: Data(count: (1 << 20) + 1)))
            }
            for args in [
                ["auth", "status"], ["auth", "status", "--json"], ["auth", "login", "--server", "http://127.0.0.1:9"],
                ["auth", "logout", "--yes"],
            ] {
                let r = try await Spawned.run(
                    Binaries.happy, args, environment: env(scratch.home), in: scratch.path, seconds: 10)
                #expect([0, 1, 69].contains(r.status), "\(kind) \(file) \(args): \(r.status) \(r.stderr)")
                if file != "daemon.state.json" && args[1] != "logout" {
                    let expected =
                        kind == "fifo" ? "a FIFO" : kind == "zero" ? "a character device" : "larger than 1 MiB"
                    #expect(
                        r.stdout.contains(expected) || r.stderr.contains(expected),
                        "\(kind) \(file) \(args): \(r.stderr)")
                }
            }
        }
    }

    /// `--cert`, `--key`, `--cert-password-file` and `--ca` that are FIFOs are refused at once.
    @Test(arguments: ["--cert", "--key", "--cert-password-file", "--ca"])
    func aFIFOGivenAsAFlagFileNeverHangs(flag: String) async throws {
        let scratch = try Scratch()
        let fifo = scratch.path + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        var args = [
            "auth", "login", "--server", "https://127.0.0.1:9", "--cert", GeneratedPKI.path("alice.pem"),
            "--key", GeneratedPKI.path("alice.key"),
        ]
        if flag == "--cert-password-file" || flag == "--ca" {
            args += [flag, fifo]
        } else {
            args[args.firstIndex(of: flag)! + 1] = fifo
        }
        let started = Date()
        let r = try await Spawned.run(
            Binaries.happy, args, environment: env(scratch.home), in: scratch.path, seconds: 10)
        #expect([64, 77, 69].contains(r.status), "\(flag): \(r.status) \(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 5)
        if flag != "--cert-password-file" { #expect(r.stderr.contains("FIFO"), "\(flag): \(r.stderr)") }
    }

    /// A home owned by someone else is refused before any network (port 9 would be exit 69).
    @Test(.enabled(if: getuid() == 0, "not root: a home owned by someone else cannot be made here"))
    func aForeignHomeFailsBeforeAnyNetwork() async throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.home, withIntermediateDirectories: true)
        #expect(chown(scratch.home, 54321, 54321) == 0)
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--server", "http://127.0.0.1:9"],
            environment: env(scratch.home), in: scratch.path)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("belongs to another user") && r.stderr.contains("nothing was sent"), "\(r.stderr)")
    }

    /// Read-only and full homes fail before any network, and `login --force` on a full disk keeps the old login
    /// whole: both files or neither, never "logged in without a machine ID".
    @Test(.enabled(if: Probe.mountPermitted, "mount is not permitted here: no small tmpfs for a full home"))
    func readOnlyAndFullHomesFailBeforeAnyNetwork() async throws {
        let scratch = try Scratch()
        let mountPoint = scratch.path + "/mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try await Spawned.run(
            "/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint], environment: [:], in: scratch.path)
        try #require(mounted.status == 0, "mount failed although the probe could mount: \(mounted.stderr)")
        defer {
            _ = try? Process.run(URL(fileURLWithPath: "/bin/umount"), arguments: ["-l", mountPoint]).waitUntilExit()
        }
        let home = mountPoint + "/home"
        try loggedIn(home)
        let key = try String(contentsOfFile: home + "/access.key", encoding: .utf8)

        // Full: fill every byte left.
        let filler = try await Spawned.run(
            "/bin/dd", ["if=/dev/zero", "of=\(mountPoint)/filler", "bs=4k"], environment: [:],
            in: scratch.path)
        _ = filler
        let full = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--force", "--server", "http://127.0.0.1:9"],
            environment: env(home), in: scratch.path)
        #expect(full.status == 1, "\(full.stderr)")
        #expect(full.stderr.contains("disk is full"), "\(full.stderr)")
        #expect(try String(contentsOfFile: home + "/access.key", encoding: .utf8) == key)
        #expect(try String(contentsOfFile: home + "/settings.json", encoding: .utf8).contains("m-1"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: home).sorted() == ["access.key", "settings.json"])
        try FileManager.default.removeItem(atPath: mountPoint + "/filler")

        // Read-only.
        #expect(
            try await Spawned.run("/bin/mount", ["-o", "remount,ro", mountPoint], environment: [:], in: scratch.path)
                .status == 0)
        let readOnly = try await Spawned.run(
            Binaries.happy, ["auth", "login", "--force", "--server", "http://127.0.0.1:9"],
            environment: env(home), in: scratch.path)
        #expect(readOnly.status == 1, "\(readOnly.stderr)")
        #expect(readOnly.stderr.contains("read-only"), "\(readOnly.stderr)")
        #expect(try String(contentsOfFile: home + "/access.key", encoding: .utf8) == key)
    }

    /// Temporary files a killed run left behind are removed by the next logout (and login).
    @Test func staleTemporaryFilesAreRemoved() async throws {
        let scratch = try Scratch()
        try loggedIn(scratch.home)
        for name in [".access.key.tmp-Ab12Cd", ".settings.json.tmp-x9Y8z7"] {
            try "{\"token\": \"leaked\"}".write(toFile: scratch.home + "/" + name, atomically: false, encoding: .utf8)
        }
        try "mine".write(toFile: scratch.home + "/.access.key.tmp-notours", atomically: false, encoding: .utf8)
        let r = try await Spawned.run(
            Binaries.happy, ["auth", "logout", "--yes"], environment: env(scratch.home), in: scratch.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: scratch.home) == [".access.key.tmp-notours"],
            "only happy's own temporary-file pattern is removed")
    }
}
