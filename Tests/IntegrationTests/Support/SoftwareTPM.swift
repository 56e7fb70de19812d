import Foundation

/// A software TPM 2.0 (`swtpm socket --tpm2`) on two loopback ports (server, control = server + 1, as the swtpm TCTI
/// expects) with a fresh state directory, plus a P-256 key made inside it by `openssl genpkey -provider tpm2`
/// (`device.tss2.pem`, useless without this TPM) and a certificate the test CA issued for its public key
/// (`device.pem`, SAN e-mail `tpm@example.com`, CN "TPM User"). Every tool is real.
final class SoftwareTPM: @unchecked Sendable {
    static let swtpm = "/usr/bin/swtpm"
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: swtpm)
            && ["/usr/lib/x86_64-linux-gnu/ossl-modules/tpm2.so", "/usr/lib/aarch64-linux-gnu/ossl-modules/tpm2.so"]
                .contains { FileManager.default.fileExists(atPath: $0) }
    }

    let scratch: Scratch
    let port: Int
    private(set) var process: Spawned?
    /// `TPM2OPENSSL_TCTI` for the processes that use this TPM.
    var tcti: String { "swtpm:host=127.0.0.1,port=\(port)" }
    var keyPath: String { scratch.path + "/device.tss2.pem" }
    var certificatePath: String { scratch.path + "/device.pem" }

    init() async throws {
        scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.path + "/state", withIntermediateDirectories: true)
        port = Self.twoFreePorts()
        try start()
        let dir = scratch.path
        let ca = GeneratedPKI.path
        try await run([
            "/usr/bin/openssl", "genpkey", "-provider", "tpm2", "-algorithm", "EC", "-pkeyopt", "group:P-256",
            "-out", keyPath,
        ])
        try await run([
            "/usr/bin/openssl", "pkey", "-provider", "tpm2", "-provider", "default", "-in", keyPath,
            "-pubout", "-out", dir + "/device.pub.pem",
        ])
        try
            "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\nsubjectAltName = email:tpm@example.com\n"
            .write(toFile: dir + "/leaf.ext", atomically: true, encoding: .utf8)
        try await run([
            "/usr/bin/openssl", "x509", "-new", "-force_pubkey", dir + "/device.pub.pem", "-subj",
            "/O=Happy Test/CN=TPM User", "-CA", ca("ca.pem"), "-CAkey", ca("ca.key"), "-days", "30", "-sha256",
            "-extfile", dir + "/leaf.ext", "-out", certificatePath,
        ])
    }

    /// Starts swtpm on `port` and `port + 1` with this TPM's state (again after `stop()`).
    func start() throws {
        let state = scratch.path + "/state"
        let spawned = try Spawned(
            Self.swtpm,
            [
                "socket", "--tpm2", "--server", "type=tcp,port=\(port),bindaddr=127.0.0.1", "--ctrl",
                "type=tcp,port=\(port + 1),bindaddr=127.0.0.1", "--tpmstate", "dir=\(state)", "--flags",
                "not-need-init,startup-clear",
            ], environment: TestEnvironment.clean(), in: scratch.path)
        process = spawned
        for _ in 0..<200 where !loopbackAccepts(port: port) { usleep(10_000) }
    }

    /// Stops swtpm; the TPM is then unreachable. SIGKILL: swtpm inherits the test runner's signal mask, in which
    /// SIGTERM is blocked, and never unblocks it, so a SIGTERM would leave `stopNow` waiting for ever.
    func stop() {
        process?.stopNow(SIGKILL)
        process = nil
    }

    deinit { stop() }

    @discardableResult
    func run(_ argv: [String]) async throws -> String {
        let env = TestEnvironment.clean(["TPM2OPENSSL_TCTI": tcti, "TSS2_LOG": "all+NONE"])
        let r = try await Spawned.run(argv[0], Array(argv.dropFirst()), environment: env, in: scratch.path)
        guard r.status == 0 else {
            throw SpawnError.exited(stdout: r.stdout, stderr: "\(argv.joined(separator: " ")): \(r.stderr)")
        }
        return r.stdout
    }

    /// A port whose successor is free too.
    private static func twoFreePorts() -> Int {
        for _ in 0..<50 {
            let port = freeLoopbackPort()
            if port < 65535, !loopbackAccepts(port: port + 1), loopbackCanBind(port: port + 1) { return port }
        }
        return freeLoopbackPort()
    }
}
