import Foundation
import Testing

/// OpenSSL 4 removed the ENGINE API (PROTOCOL §7): `happy` names no ENGINE function, links none and looks none up.
/// (swift-nio-ssl's BoringSSL carries no-op ENGINE compatibility functions of its own, all prefixed `CNIOBoringSSL_`;
/// they are not OpenSSL's and are never called.)
@Suite("no OpenSSL ENGINE in happy")
struct NoEngineTests {
    static let release = Binaries.repositoryRoot + "/.build/release/happy"

    /// Neither symbol table holds an OpenSSL `ENGINE_…` name: the lazy libcrypto table defines a stub for every
    /// function it resolves, so a call brought back anywhere shows up here.
    @Test(arguments: ["debug", "release"])
    func theBinaryHasNoEngineSymbol(build: String) async throws {
        let binary = build == "debug" ? Binaries.happy : Self.release
        try #require(FileManager.default.isExecutableFile(atPath: binary), "no \(build) binary: run `make test`")
        let scratch = try Scratch()
        for table in ["-a", "-D"] {
            let symbols = try await Spawned.run(
                "/usr/bin/nm", [table, binary], environment: TestEnvironment.clean(), in: scratch.path)
            let names = symbols.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last }
            #expect(!names.isEmpty || symbols.stderr.contains("no symbols"), "nm \(table): \(symbols.stderr)")
            let engine = names.filter { $0.hasPrefix("ENGINE_") }
            #expect(engine.isEmpty, "nm \(table) \(binary): \(engine.prefix(5))")
        }
    }

    /// At run time, with libcrypto loaded for a certificate login, the dynamic linker sees no lookup of an
    /// `ENGINE_…` symbol by name (`dlsym` lookups are the unversioned bindings in `LD_DEBUG=bindings`).
    @Test func aCertificateLoginLooksUpNoEngineFunction() async throws {
        let scratch = try Scratch()
        let trace = scratch.path + "/ld"
        let r = try await Spawned.run(
            Binaries.happy,
            [
                "auth", "login", "--server", "https://127.0.0.1:9", "--revocation-check", "off", "--cert",
                GeneratedPKI.path("alice.pem"), "--key", GeneratedPKI.path("alice.key"),
            ],
            environment: TestEnvironment.clean([
                "HAPPY_HOME_DIR": scratch.home, "LD_DEBUG": "bindings", "LD_DEBUG_OUTPUT": trace,
            ]), in: scratch.path)
        #expect(r.stderr.contains("Certificate:"), "libcrypto was not loaded: \(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("ld.") }
        let lines = try files.flatMap {
            try String(contentsOfFile: scratch.path + "/" + $0, encoding: .utf8).split(separator: "\n")
        }
        #expect(lines.contains { $0.contains("symbol `EVP_") && !$0.contains("[OPENSSL_") }, "no dlsym seen")
        let lookedUp = lines.filter { $0.contains("symbol `ENGINE_") && !$0.contains("[OPENSSL_") }
        #expect(lookedUp.isEmpty, "\(lookedUp.prefix(3))")
    }
}
