import Foundation
import HappyKit
import Testing

/// `make deb` (scripts/make-deb.sh): the package holds the stripped binary, the man page and the completions where
/// Debian looks for them, depends on the C libraries the binary links (and no Swift runtime), and installs a
/// `happy` that runs.
@Suite("Debian package")
struct DebianPackageTests {
    static let installed = [
        "./usr/bin/happy", "./usr/share/man/man1/happy.1.gz", "./usr/share/bash-completion/completions/happy",
        "./usr/share/zsh/vendor-completions/_happy", "./usr/share/fish/vendor_completions.d/happy.fish",
    ]

    @Test func buildsInstallsAndRuns() async throws {
        let scratch = try Scratch()
        let env = TestEnvironment.clean()
        let root = Binaries.repositoryRoot
        // The release binary `make test` built first: `swift test` holds SwiftPM's lock, so no `swift build` here.
        // Run from the scratch directory: Spawned keeps each run's output files in its working directory.
        let built = try await Spawned.run(
            root + "/scripts/make-deb.sh", [],
            environment: env.merging(["HAPPY_DEB_PREBUILT": "1"]) { $1 },
            in: scratch.path, seconds: 300)
        try #require(built.status == 0, "make-deb.sh failed: \(built.stderr)")
        let deb = built.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let arch = try await Spawned.run(
            "/usr/bin/dpkg", ["--print-architecture"], environment: env,
            in: scratch.path)
        let name = "happy_\(HappyVersion.current)_\(arch.stdout.trimmingCharacters(in: .whitespacesAndNewlines)).deb"
        #expect(deb == root + "/" + name)

        let contents = try await Spawned.run("/usr/bin/dpkg-deb", ["-c", deb], environment: env, in: scratch.path)
        #expect(contents.status == 0)
        let paths = Set(
            contents.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last }
                .map(String.init))
        for path in Self.installed {
            #expect(paths.contains(path), "the package lacks \(path)")
        }
        #expect(contents.stdout.contains("root/root"), "files are not owned by root")

        let fields = try await Spawned.run(
            "/usr/bin/dpkg-deb", ["-f", deb, "Package", "Version", "Depends"],
            environment: env, in: scratch.path)
        #expect(fields.stdout.contains("Package: happy\n"))
        #expect(fields.stdout.contains("Version: \(HappyVersion.current)\n"))
        let depends = fields.stdout.components(separatedBy: "Depends: ").last ?? ""
        for library in ["libc6", "libsodium", "libqrencode", "libssl"] {
            #expect(depends.contains(library), "Depends lacks \(library): \(depends)")
        }
        #expect(!depends.lowercased().contains("swift"), "Depends names a Swift runtime: \(depends)")
        // Packed relocations (DT_RELR) need glibc 2.36's loader, which no symbol tells dpkg-shlibdeps.
        #expect(depends.contains("libc6 (>= 2.36)"), "Depends: \(depends)")

        let target = scratch.path + "/root"
        let extracted = try await Spawned.run(
            "/usr/bin/dpkg", ["-x", deb, target], environment: env,
            in: scratch.path)
        #expect(extracted.status == 0)
        let sections = try await Spawned.run(
            "/usr/bin/readelf", ["-S", target + "/usr/bin/happy"], environment: env,
            in: scratch.path)
        #expect(sections.status == 0 && !sections.stdout.contains(".symtab"), "the installed binary is not stripped")
        try await expectLeanStartUp(target + "/usr/bin/happy", env: env, in: scratch)
        try await expectDlopenNote(target + "/usr/bin/happy", env: env, in: scratch)
        let version = try await Spawned.run(
            target + "/usr/bin/happy", ["--version"], environment: env,
            in: scratch.path)
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == HappyVersion.current)
    }

    /// The optional library, announced the way systemd does (https://systemd.io/ELF_DLOPEN_METADATA/): the release
    /// link (lld, sections garbage-collected) keeps CLazyCrypto's `.note.dlopen`, an FDO note of type 0x407c0c0a whose
    /// JSON names libcrypto.so.3, so `readelf -n` and packagers see what `happy` opens at run time.
    @Test func theReleaseBinaryAnnouncesLibcryptoInADlopenNote() async throws {
        let scratch = try Scratch()
        let binary = Binaries.repositoryRoot + "/.build/release/happy"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "no release binary: run `make test`")
        try await expectDlopenNote(binary, env: TestEnvironment.clean(), in: scratch)
    }

    func expectDlopenNote(_ binary: String, env: [String: String], in scratch: Scratch) async throws {
        let notes = try await Spawned.run("/usr/bin/readelf", ["-n", "-W", binary], environment: env, in: scratch.path)
        let section = notes.stdout.components(separatedBy: "Displaying notes found in: ").first {
            $0.hasPrefix(".note.dlopen")
        }
        let note = try #require(section, "no .note.dlopen in \(binary): \(notes.stdout)")
        #expect(note.contains("FDO") && note.contains("0x407c0c0a"), "\(note)")
        let strings = try await Spawned.run(
            "/usr/bin/readelf", ["-p", ".note.dlopen", binary], environment: env, in: scratch.path)
        let line = try #require(strings.stdout.split(separator: "\n").first { $0.contains("[{") }, "\(strings.stdout)")
        let json = try JSONParser.parse(String(line[try #require(line.firstRange(of: "[{")).lowerBound...]))
        guard case .array(let features) = json, case .object = features.first else {
            Issue.record("the note is not a JSON array of objects: \(line)")
            return
        }
        let crypto = features.first { $0["feature"]?.stringValue == "certificates" }
        #expect(crypto?["soname"] == .array([.string("libcrypto.so.3")]), "\(line)")
        #expect(crypto?["priority"]?.stringValue == "recommended", "\(line)")
    }

    /// What the loader does at every start (issue 10, `make bench`): no `$ORIGIN` search path, relative relocations
    /// packed (DT_RELR) rather than 1.7 MB of RELA entries, no exported symbols of our own, and no library loaded
    /// that start-up does not need (libssl, p11-kit: TLS is swift-nio-ssl's, PKCS#11 modules are dlopen-ed;
    /// libcrypto is loaded on first use, so Depends must still name libssl3, as the test above checks).
    func expectLeanStartUp(_ binary: String, env: [String: String], in scratch: Scratch) async throws {
        let dynamic = try await Spawned.run(
            "/usr/bin/readelf", ["-d", "-W", binary], environment: env, in: scratch.path)
        #expect(dynamic.status == 0)
        #expect(!dynamic.stdout.contains("(RPATH)") && !dynamic.stdout.contains("(RUNPATH)"), "\(dynamic.stdout)")
        #expect(dynamic.stdout.contains("(RELR)"), "relative relocations are not packed: \(dynamic.stdout)")
        for unused in ["libssl.so", "libp11-kit.so", "libffi.so", "libcrypto.so"] {
            #expect(!dynamic.stdout.contains("[\(unused)"), "\(unused) is loaded at every start but never called")
        }
        let symbols = try await Spawned.run(
            "/usr/bin/readelf", ["--dyn-syms", "-W", binary], environment: env,
            in: scratch.path)
        let exported = symbols.stdout.split(separator: "\n").filter { $0.contains(" GLOBAL ") && !$0.contains(" UND ") }
        #expect(exported.count < 100, "the binary exports \(exported.count) symbols")
    }
}
