import AsyncHTTPClient
import Foundation
import HappyKit
import HappyTestServer
import NIOCore
import NIOSSL
import Testing

/// Certificate login on HappyTestServer (PROTOCOL §2, seed 000): direct mode over a real TLS handshake with client
/// certificates from `scripts/make-test-pki.sh`, forwarded mode with proxy headers, and the environment parsing.
@Suite("HappyTestServer mTLS (PROTOCOL §2)")
struct TestServerMTLSTests {
    static let enabledDirect = [
        "HAPPIER_FEATURE_AUTH_MTLS__ENABLED": "1", "HAPPIER_FEATURE_AUTH_MTLS__MODE": "direct",
    ]
    static let enabledForwarded = [
        "HAPPIER_FEATURE_AUTH_MTLS__ENABLED": "1", "HAPPIER_FEATURE_AUTH_MTLS__MODE": "forwarded",
        "HAPPIER_FEATURE_AUTH_MTLS__TRUST_FORWARDED_HEADERS": "1",
    ]

    @Test func directModeProvisionsFromTheVerifiedCertificate() async throws {
        let pki = try TestPKI()
        try await pki.withServer(
            Self.enabledDirect.merging(["HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1"]) { $1 }
        ) { (running) async throws in
            #expect(running.baseURL.hasPrefix("https://127.0.0.1:"))

            let features = try await pki.send(running, "GET", "/v1/features", as: nil)
            #expect(features.text == #"{"features":{"mtls":{"enabled":true,"mode":"direct"}}}"#)
            #expect(try await pki.send(running, "POST", "/v1/auth/mtls", as: nil).status == 401)

            let alice = try await pki.send(running, "POST", "/v1/auth/mtls", as: "alice")
            #expect(alice.status == 200)
            #expect(alice.text.hasPrefix(#"{"success":true,"token":""#))
            let token = try #require(alice.json?["token"] as? String)
            // The token is a real bearer: an unknown request answers 404, not 401.
            let check = try await pki.send(
                running, "POST", "/v1/auth/response", as: nil,
                body: #"{"publicKey": "\#(Base64.encode([UInt8](repeating: 7, count: 32)))", "response": "AA=="}"#,
                headers: ["Authorization": "Bearer \(token)"])
            #expect(check.status == 404)

            // The device-keypair endpoints work over the same TLS listener without a certificate.
            let key = Base64.encode(try BoxKeyPair.generate().publicKey)
            let poll = try await pki.send(
                running, "POST", "/v1/auth/request", as: nil, body: #"{"publicKey": "\#(key)"}"#)
            #expect(poll.text == #"{"state":"requested"}"#)

            _ = try await pki.send(running, "POST", "/v1/auth/mtls", as: "upn")
            _ = try await pki.send(running, "POST", "/v1/auth/mtls", as: "cn-only")
            let identities = try await pki.send(running, "GET", "/_test/mtls-identities", as: nil)
            #expect(identities.text == #"{"identities":["alice@example.com","carol@example.com","dave-laptop"]}"#)
        }
    }

    @Test func directModeRefusesCertificatesTheCADidNotIssueOrThatExpired() async throws {
        let pki = try TestPKI()
        try await pki.withServer(
            Self.enabledDirect.merging(["HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1"]) { $1 }
        ) { (running) async throws in
            for name in ["other-ca-client", "expired", "not-yet-valid"] {
                await #expect(throws: (any Error).self, "\(name)") {
                    try await pki.send(running, "POST", "/v1/auth/mtls", as: name)
                }
            }
            #expect(try await pki.send(running, "POST", "/v1/auth/mtls", as: "alice").status == 200)
        }
    }

    @Test func eligibilityAnswers403And409() async throws {
        let pki = try TestPKI()
        try await pki.withServer(
            Self.enabledDirect.merging([
                "HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "0",
                "HAPPIER_FEATURE_AUTH_MTLS__ALLOWED_EMAIL_DOMAINS": " Example.com , example.org",
                "HAPPY_TEST_SERVER_KNOWN_IDENTITIES": "ALICE@example.com,bob@elsewhere.org",
                "HAPPY_TEST_SERVER_E2EE_IDENTITIES": "carol@example.com",
            ]) { $1 }
        ) { (running) async throws in
            let expected: [(String, Int, String?)] = [
                ("alice", 200, nil),  // known (case-insensitive), allowed domain
                ("bob-other-domain", 403, "not-eligible"),  // known, but the domain is not allowed
                ("upn", 409, "restore-required"),  // the UPN identity belongs to an E2EE account
                ("cn-only", 403, "not-eligible"),  // no e-mail at all while a domain list is set
            ]
            for (name, status, error) in expected {
                let reply = try await pki.send(running, "POST", "/v1/auth/mtls", as: name)
                #expect(reply.status == status, "\(name)")
                if let error { #expect(reply.text == #"{"error":"\#(error)"}"#, "\(name)") }
            }
        }
    }

    @Test func unknownIdentitiesNeedAutoProvisioningAndSourcesPickTheIdentity() async throws {
        let pki = try TestPKI()
        let fingerprint = try pki.fingerprint("alice")
        try await pki.withServer(
            Self.enabledDirect.merging([
                "HAPPIER_FEATURE_AUTH_MTLS__IDENTITY_SOURCE": "fingerprint",
                "HAPPY_TEST_SERVER_KNOWN_IDENTITIES": fingerprint.uppercased(),
            ]) { $1 }
        ) { (running) async throws in
            #expect(try await pki.send(running, "POST", "/v1/auth/mtls", as: "alice").status == 200)
            #expect(
                try await pki.send(running, "POST", "/v1/auth/mtls", as: "upn").text == #"{"error":"not-eligible"}"#)

            try await pki.withServer(
                Self.enabledDirect.merging([
                    "HAPPIER_FEATURE_AUTH_MTLS__IDENTITY_SOURCE": "subject_cn",
                    "HAPPY_TEST_SERVER_KNOWN_IDENTITIES": "alice example,dave-laptop",
                ]) { $1 }
            ) { (bySubject) async throws in
                for name in ["alice", "cn-only"] {
                    #expect(try await pki.send(bySubject, "POST", "/v1/auth/mtls", as: name).status == 200, "\(name)")
                }
                #expect(try await pki.send(bySubject, "POST", "/v1/auth/mtls", as: "upn").status == 403)
            }
        }
    }

    @Test func issuerAllowListMatchesCNOrWholeDN() async throws {
        let pki = try TestPKI()
        let cases: [(String, alice: Int, eve: Int)] = [
            ("cn=happy test root ca", 200, 403),
            ("Some Other CA, Happy Test Root CA", 200, 403),
            ("O=Happy Test, CN=Happy Test Root CA", 200, 403),
            ("CN=Happy Test Root CA,O=Happy Test", 200, 403),  // RFC 4514 order
            ("O=Elsewhere, CN=Happy Test Root CA\nCN=Other Root CA", 403, 200),
            ("O=Happy Test, CN=Happy Test Root CA; cn=Other Root CA", 200, 200),
        ]
        for (allowed, aliceStatus, eveStatus) in cases {
            var (alice, eve) = (0, 0)
            try await pki.withServer(
                Self.enabledDirect.merging([
                    "HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1",
                    "HAPPIER_FEATURE_AUTH_MTLS__ALLOWED_ISSUERS": allowed,
                ]) { $1 }, clientCAs: ["ca.pem", "other-ca.pem"]
            ) { (running) async throws in
                alice = try await pki.send(running, "POST", "/v1/auth/mtls", as: "alice").status
                eve = try await pki.send(running, "POST", "/v1/auth/mtls", as: "other-ca-client").status
            }
            #expect(alice == aliceStatus, "\(allowed)")
            #expect(eve == eveStatus, "\(allowed)")
        }
    }

    @Test func forwardedModeTrustsHeadersOnlyWhenToldTo() async throws {
        let pki = try TestPKI()
        let email = ["x-happier-client-cert-email": "Alice@Example.COM"]
        try await pki.withServer(
            Self.enabledForwarded.merging([
                "HAPPIER_FEATURE_AUTH_MTLS__TRUST_FORWARDED_HEADERS": "0",
                "HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1",
            ]) { $1 }, tls: false
        ) { (untrusted) async throws in
            #expect(try await pki.send(untrusted, "POST", "/v1/auth/mtls", as: nil, headers: email).status == 401)
            let features = try await pki.send(untrusted, "GET", "/v1/features", as: nil)
            #expect(features.text == #"{"features":{"mtls":{"enabled":true,"mode":"forwarded"}}}"#)

            try await pki.withServer(
                Self.enabledForwarded.merging([
                    "HAPPIER_FEATURE_AUTH_MTLS__ALLOWED_ISSUERS": "C=US, O=Example Corp, CN=Example Root CA",
                    "HAPPIER_FEATURE_AUTH_MTLS__FORWARDED_EMAIL_HEADER": "X-SSL-Client-Email",
                    "HAPPIER_FEATURE_AUTH_MTLS__IDENTITY_SOURCE": "san_email",
                    "HAPPY_TEST_SERVER_KNOWN_IDENTITIES": "alice@example.com,dave,ab12cd",
                ]) { $1 }, tls: false
            ) { (trusted) async throws in
                let issuer = "x-happier-client-cert-issuer"
                let cases: [([String: String], Int)] = [
                    ([:], 401),
                    (
                        ["x-ssl-client-email": "ALICE@example.com", issuer: "c=us,o=example corp,cn=example root ca"],
                        200
                    ),
                    // The entry is a DN.
                    (["x-ssl-client-email": "alice@example.com", issuer: "CN=Example Root CA"], 403),
                    (
                        [
                            "x-happier-client-cert-email": "alice@example.com",
                            issuer: "C=US, O=Example Corp, CN=Example Root CA",
                        ], 401
                    ),
                    (
                        [
                            "x-happier-client-cert-subject": "CN=dave, O=Example Corp",
                            issuer: "C=US,O=Example Corp,CN=Example Root CA",
                        ], 200
                    ),
                    (
                        [
                            "x-happier-client-cert-sha256": "AB:12:CD",
                            issuer: "CN=Example Root CA, O=Example Corp, C=US",
                        ], 200
                    ),
                    (["x-happier-client-cert-sha256": "ff", issuer: "C=US, O=Example Corp, CN=Example Root CA"], 403),
                ]
                for (headers, status) in cases {
                    #expect(
                        try await pki.send(trusted, "POST", "/v1/auth/mtls", as: nil, headers: headers).status
                            == status,
                        "\(headers)")
                }
            }
        }
    }

    @Test func environmentParsing() throws {
        let settings = try MTLSSettings(environment: [
            "HAPPIER_FEATURE_AUTH_MTLS__ENABLED": "true", "HAPPIER_FEATURE_AUTH_MTLS__MODE": "DIRECT",
            "HAPPIER_FEATURE_AUTH_MTLS__IDENTITY_SOURCE": "san_upn",
            "HAPPIER_FEATURE_AUTH_MTLS__FORWARDED_ISSUER_HEADER": "X-Issuer",
        ])
        #expect(settings.isEnabled && settings.mode == .direct && settings.identitySource == .sanUPN)
        #expect(!settings.autoProvision && !settings.trustForwardedHeaders)
        #expect(
            settings.forwardedHeaders.issuer == "x-issuer"
                && settings.forwardedHeaders.email == "x-happier-client-cert-email")
        #expect(!(try MTLSSettings(environment: [:])).isEnabled)
        for (name, value) in [("MODE", "proxy"), ("ENABLED", "maybe"), ("IDENTITY_SOURCE", "cn")] {
            #expect(throws: TestServerError.self) {
                try MTLSSettings(environment: ["HAPPIER_FEATURE_AUTH_MTLS__" + name: value])
            }
        }
        #expect(throws: TestServerError.self) {
            try TestServerConfiguration(host: "127.0.0.1", port: 0, environment: ["HAPPY_TEST_SERVER_TLS_CERT": "/x"])
        }
        #expect(throws: TestServerError.self) {
            try TestServerConfiguration(host: "127.0.0.1", port: 0, environment: ["HAPPY_TEST_SERVER_SECRET": "AAAA"])
        }
    }

    /// `happy-test-server serve` with the TLS variables: an https line on stdout and a working certificate login.
    @Test func binaryServesDirectMTLS() async throws {
        let pki = try TestPKI()
        var env = TestEnvironment.clean(try pki.environment(clientCAs: ["ca.pem"]))
        env.merge(Self.enabledDirect.merging(["HAPPIER_FEATURE_AUTH_MTLS__AUTO_PROVISION": "1"]) { $1 }) { $1 }
        let serve = try Spawned(Binaries.server, ["serve"], environment: env, in: pki.scratch.path)
        defer { serve.stopNow() }
        try await serve.waitForOutput { $0.contains("\n") }
        let line = serve.stdout.trimmingCharacters(in: .newlines)
        #expect(line.wholeMatch(of: /listening on https:\/\/127\.0\.0\.1:[0-9]+/) != nil)
        let url = String(line.dropFirst("listening on ".count))
        let reply = try await pki.send(url: url, "POST", "/v1/auth/mtls", as: "alice", body: nil, headers: [:])
        #expect(reply.status == 200)

        // The phone over https, trusting the test CA with --ca.
        let terminal = Base64.encode(try BoxKeyPair.generate().publicKey)
        let body = #"{"publicKey": "\#(terminal)", "supportsV2": true}"#
        _ = try await pki.send(url: url, "POST", "/v1/auth/request", as: nil, body: body, headers: [:])
        let approve = try await Spawned.run(
            Binaries.server, ["approve", "--server", url, "--ca", "\(pki.directory)/ca.pem", terminal],
            environment: env, in: pki.scratch.path)
        #expect(approve.status == 0, "stderr: \(approve.stderr)")
        #expect(approve.stdout == "approved v2\n")

        serve.process.interrupt()
        #expect(await serve.wait(seconds: 10) == 0)
    }
}

/// A throw-away PKI from `scripts/make-test-pki.sh` in a scratch directory that is removed afterwards.
private struct TestPKI {
    let scratch: Scratch
    var directory: String { scratch.path + "/pki" }

    init() throws {
        scratch = try Scratch()
        let script = Binaries.repositoryRoot + "/scripts/make-test-pki.sh"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, scratch.path + "/pki"]
        process.environment = TestEnvironment.clean()
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestServerError("make-test-pki.sh failed") }
    }

    /// The lower-case hex SHA-256 of the certificate's DER, as `openssl x509 -fingerprint -sha256` shows it.
    func fingerprint(_ name: String) throws -> String {
        let der = try NIOSSLCertificate.fromPEMFile("\(directory)/\(name).pem")[0].toDERBytes()
        let process = Process()
        let pipe = Pipe()
        let input = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "dgst", "-sha256", "-r"]
        process.standardInput = input
        process.standardOutput = pipe
        try process.run()
        input.fileHandleForWriting.write(Data(der))
        try input.fileHandleForWriting.close()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(output.prefix(64))
    }

    func environment(clientCAs: [String]) throws -> [String: String] {
        let bundle = scratch.path + "/client-ca.pem"
        let pems = try clientCAs.map { try String(contentsOfFile: "\(directory)/\($0)", encoding: .utf8) }
        try Data(pems.joined().utf8).write(to: URL(fileURLWithPath: bundle))
        return [
            "HAPPY_TEST_SERVER_TLS_CERT": "\(directory)/server.pem",
            "HAPPY_TEST_SERVER_TLS_KEY": "\(directory)/server.key",
            "HAPPY_TEST_SERVER_CLIENT_CA": bundle,
        ]
    }

    /// Runs `body` against an in-process server configured from `env` (plus the TLS files unless `tls` is false)
    /// and stops the server before returning, on the throwing path too.
    func withServer(
        _ env: [String: String], clientCAs: [String] = ["ca.pem"], tls: Bool = true,
        _ body: (RunningTestServer) async throws -> Void
    ) async throws {
        let running = try await start(env, clientCAs: clientCAs, tls: tls)
        do {
            try await body(running)
            await running.stop()
        } catch {
            await running.stop()
            throw error
        }
    }

    /// An in-process server configured from `env` (plus the TLS files unless `tls` is false).
    private func start(_ env: [String: String], clientCAs: [String] = ["ca.pem"], tls: Bool = true) async throws
        -> RunningTestServer
    {
        let all = tls ? env.merging(try environment(clientCAs: clientCAs)) { $1 } : env
        let configuration = try TestServerConfiguration(host: "127.0.0.1", port: 0, environment: all)
        return try await HappyTestServer(configuration: configuration, logLevel: "critical").start()
    }

    func send(
        _ running: RunningTestServer, _ method: String, _ path: String, as identity: String?, body: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> (status: Int, text: String, json: NSDictionary?) {
        try await send(url: running.baseURL, method, path, as: identity, body: body, headers: headers)
    }

    /// One request on a fresh client that trusts the test CA and presents `<identity>.pem` when given.
    func send(
        url: String, _ method: String, _ path: String, as identity: String?, body: String?, headers: [String: String]
    ) async throws -> (status: Int, text: String, json: NSDictionary?) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile("\(directory)/ca.pem"))
        if let identity {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile("\(directory)/\(identity).pem").map {
                .certificate($0)
            }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: "\(directory)/\(identity).key", format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout.connect = .seconds(10)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            var request = HTTPClientRequest(url: url + path)
            request.method = .init(rawValue: method)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await client.execute(request, timeout: .seconds(20))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            try await client.shutdown()
            let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary
            return (Int(response.status.code), text, json)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
