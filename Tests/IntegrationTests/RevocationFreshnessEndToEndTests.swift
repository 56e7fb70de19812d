import Foundation
import HappyKit
import Testing

/// OCSP freshness (issue 18, item 3) with the real binary: answers made by a real `openssl ocsp` responder for a
/// request without a nonce (as a replaying attacker or a pre-signing responder would serve them), some made 800 days
/// ago (`faketime`), served as they are on the certificates' OCSP port. And a certificate whose AIA names a responder
/// URL with terminal escapes in it.
@Suite("OCSP answers that are stale or cannot prove their freshness", .serialized)
struct RevocationFreshnessEndToEndTests {
    typealias Check = RevocationCheckEndToEndTests
    static let nowhere = Check.nowhere

    /// An answer about `ocsp-good` to a nonce-less request, made `daysAgo` days ago, with a nextUpdate `nextMinutes`
    /// after it when given.
    static func answer(daysAgo: Int? = nil, nextMinutes: Int? = nil, in scratch: Scratch) async throws -> [UInt8] {
        try requireTool("/usr/bin/faketime", package: "faketime")
        let pki = GeneratedPKI.path
        let request = scratch.path + "/request.der"
        let made = try await Spawned.run(
            "/usr/bin/openssl",
            ["ocsp", "-issuer", pki("ca.pem"), "-cert", pki("ocsp-good.pem"), "-no_nonce", "-reqout", request],
            environment: TestEnvironment.clean(), in: scratch.path)
        #expect(made.status == 0, "\(made)")
        let answer = scratch.path + "/answer-\(UUID().uuidString.prefix(6)).der"
        var responder = [
            "/usr/bin/openssl", "ocsp", "-index", pki("ocsp-index.txt"), "-rsigner", pki("ca.pem"), "-rkey",
            pki("ca.key"), "-CA", pki("ca.pem"), "-reqin", request, "-respout", answer,
        ]
        if let nextMinutes { responder += ["-nmin", String(nextMinutes)] }
        if let daysAgo { responder = ["/usr/bin/faketime", "\(daysAgo) days ago"] + responder }
        let signed = try await Spawned.run(
            responder[0], Array(responder.dropFirst()), environment: TestEnvironment.clean(), in: scratch.path)
        #expect(signed.status == 0, "\(signed)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: answer)))
    }

    func login(
        _ scratch: Scratch, _ name: String = "ocsp-good", cert: String? = nil, key: String? = nil,
        strict: Bool
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await Spawned.run(
            Binaries.happy,
            [
                "auth", "login", "--server", Self.nowhere, "--ca", GeneratedPKI.path("ca.pem"), "--cert",
                cert ?? GeneratedPKI.path("\(name)-chain.pem"), "--key", key ?? GeneratedPKI.path("\(name).key"),
            ] + (strict ? ["--revocation-check", "strict"] : []),
            environment: Check.environment(scratch), in: scratch.path)
    }

    /// 800 days old, no nextUpdate, no nonce: never "not revoked". Soft warns and goes on (to the absent server:
    /// 69); strict stops with 77 before it.
    @Test func aStaleAnswerIsAWarningWhenSoftAndRefusedWhenStrict() async throws {
        let scratch = try Scratch()
        let responder = try await FixedOCSPResponder(answer: try await Self.answer(daysAgo: 800, in: scratch))
        defer { responder.stop() }
        let soft = try await login(try Scratch(), strict: false)
        #expect(soft.status == 69, "\(soft.stderr)")
        #expect(soft.stderr.contains("could not check revocation") && soft.stderr.contains("stale"), "\(soft.stderr)")
        #expect(!soft.stderr.contains("not revoked."), "\(soft.stderr)")
        let strict = try await login(try Scratch(), strict: true)
        #expect(strict.status == 77 && strict.stderr.contains("stale"), "\(strict.stderr)")
        #expect(responder.requests >= 2)
    }

    /// Fresh, but with neither our nonce nor a nextUpdate: soft accepts it (it is within the maximum age); strict
    /// cannot tell it from a replay and stops.
    @Test func strictWantsANonceOrANextUpdate() async throws {
        let scratch = try Scratch()
        let responder = try await FixedOCSPResponder(answer: try await Self.answer(in: scratch))
        defer { responder.stop() }
        let soft = try await login(try Scratch(), strict: false)
        #expect(soft.status == 69 && soft.stderr.contains("not revoked."), "\(soft.stderr)")
        let strict = try await login(try Scratch(), strict: true)
        #expect(strict.status == 77, "\(strict.stderr)")
        #expect(strict.stderr.contains("neither our nonce nor a nextUpdate"), "\(strict.stderr)")
    }

    /// A nonce-less answer with a nextUpdate still ahead is fresh enough for strict.
    @Test func aNextUpdateAheadSatisfiesStrict() async throws {
        let scratch = try Scratch()
        let responder = try await FixedOCSPResponder(answer: try await Self.answer(nextMinutes: 60, in: scratch))
        defer { responder.stop() }
        let strict = try await login(try Scratch(), strict: true)
        #expect(strict.status == 69 && strict.stderr.contains("not revoked."), "\(strict.stderr)")
    }

    /// A responder URL carrying ESC/OSC and BEL reaches the terminal escaped, and is never asked.
    @Test func aResponderURLWithEscapesIsShownEscapedAndNotUsed() async throws {
        let scratch = try Scratch()
        let pki = GeneratedPKI.path
        let url = "http://127.0.0.1:\(GeneratedPKI.ocspPort)/\u{1B}]0;owned\u{07}"
        let extensions = [
            "basicConstraints = critical, CA:FALSE", "keyUsage = critical, digitalSignature",
            "extendedKeyUsage = clientAuth", "subjectAltName = email:esc@example.com",
            "authorityInfoAccess = OCSP;URI:\(url)",
        ]
        try (extensions.joined(separator: "\n") + "\n").write(
            toFile: scratch.path + "/esc.ext", atomically: true, encoding: .utf8)
        let dir = scratch.path + "/"
        for command in [
            ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", dir + "esc.key"],
            ["req", "-new", "-key", dir + "esc.key", "-subj", "/O=Happy Test/CN=esc", "-out", dir + "esc.csr"],
            [
                "x509", "-req", "-in", dir + "esc.csr", "-CA", pki("ca.pem"), "-CAkey", pki("ca.key"), "-set_serial",
                "0x4242", "-days", "30", "-extfile", dir + "esc.ext", "-out", dir + "esc.pem",
            ],
        ] {
            let r = try await Spawned.run(
                "/usr/bin/openssl", command, environment: TestEnvironment.clean(), in: scratch.path)
            #expect(r.status == 0, "\(command): \(r)")
        }
        let chain = scratch.path + "/esc-chain.pem"
        try
            (String(contentsOfFile: scratch.path + "/esc.pem", encoding: .utf8)
            + String(contentsOfFile: pki("ca.pem"), encoding: .utf8)).write(
                toFile: chain, atomically: true, encoding: .utf8)
        let responder = try await FixedOCSPResponder(answer: try await Self.answer(nextMinutes: 60, in: scratch))
        defer { responder.stop() }
        for strict in [false, true] {
            let r = try await login(try Scratch(), cert: chain, key: scratch.path + "/esc.key", strict: strict)
            #expect(r.status == (strict ? 77 : 69), "\(r.stderr)")
            #expect(!r.stderr.contains("\u{1B}") && !r.stderr.contains("\u{07}"), "a raw escape reached stderr")
            #expect(r.stderr.contains("\\u{1B}]0;owned\\u{7}"), "\(r.stderr)")
            #expect(r.stderr.contains("is not a valid http(s) URL"), "\(r.stderr)")
        }
        #expect(responder.requests == 0, "the unvalidated URL was used for a request")
    }
}

/// A stand-in OCSP responder on the test PKI's OCSP port that answers every POST with one fixed DER answer (a
/// replayed or pre-signed one). Holds the port's `ResponderSlot` like `OCSPResponder`.
final class FixedOCSPResponder: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private var served = 0
    var requests: Int { lock.withLock { served } }

    init(answer: [UInt8]) async throws {
        await ResponderSlot.shared.acquire()
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(GeneratedPKI.ocspPort).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            await ResponderSlot.shared.release()
            throw SpawnError.exited(stdout: "", stderr: "cannot bind the OCSP port")
        }
        let listener = fd
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                Self.serve(client, answer: answer)
                lock.withLock { served += 1 }
            }
        }
    }

    private static func serve(_ client: Int32, answer: [UInt8]) {
        defer { close(client) }
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { return }
            request += buffer[0..<got]
            let text = String(decoding: request, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { continue }
            let length =
                text[..<end.lowerBound].split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) + length <= request.count { break }
        }
        let head = Array(
            "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: \(answer.count)\r\nConnection: close\r\n\r\n"
                .utf8)
        let all = head + answer
        _ = all.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        Task { await ResponderSlot.shared.release() }
    }
}
