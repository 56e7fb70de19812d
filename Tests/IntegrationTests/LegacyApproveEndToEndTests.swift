import Foundation
import HappyKit
import Testing

/// `happy auth approve` from a legacy home (PROTOCOL §5), with the real binary and the local server: a v2 terminal
/// gets the content key the app would derive from the master secret — checked against the known answer the app's
/// own code computed — and only a terminal without v2 gets the secret itself.
@Suite("approve from a legacy secret end to end", .serialized)
struct LegacyApproveEndToEndTests {
    /// PROTOCOL §5's known answer: this master secret's content key, as computed by the app.
    static let master = (0..<32).map { UInt8($0) }
    static let knownContentKey = "JBr5eUFa1tvJnZOvjCur8ojPlghK1uj+cHLtTiKdRFs="

    /// The runner's environment for `home`; `server` nil leaves HAPPY_SERVER_URL unset.
    func env(home: String, server: String?) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in [
            "HAPPY_SERVER_URL", "HAPPY_DEBUG", "HAPPY_WEBAPP_URL", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY", "all_proxy",
        ] { env.removeValue(forKey: key) }
        env["HAPPY_HOME_DIR"] = home
        if let server { env["HAPPY_SERVER_URL"] = server }
        return env
    }

    func post(_ server: LocalServer, _ path: String, _ json: String) async throws -> JSONValue {
        let transport = try AsyncHTTPTransport(options: TransportOptions(), environment: [:])
        let response = try await transport.send(
            HTTPRequest(
                method: "POST", url: server.url + path, headers: ["Content-Type": "application/json"],
                body: Array(json.utf8)))
        await transport.shutdown()
        #expect(response.status == 200, "\(path): \(String(decoding: response.body, as: UTF8.self))")
        return try JSONParser.parse(response.body)
    }

    /// A home holding `{"secret", "token"}` for the known-answer account, its token from the server's challenge login
    /// (`POST /v1/auth`, as the app logs in).
    func legacyHome(_ path: String, _ server: LocalServer) async throws {
        let signing = try SigningKeyPair(seed: try SecretBytes(count: 32) { $0.copyBytes(from: Self.master) })
        let challenge = SigningKeyPair.randomChallenge()
        let reply = try await post(
            server, "/v1/auth",
            """
            {"publicKey": "\(Base64.encode(signing.publicKey))", "challenge": "\(Base64.encode(challenge))", \
            "signature": "\(Base64.encode(signing.sign(challenge)))"}
            """)
        let token = try #require(reply["token"]?.stringValue)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try "{\n  \"secret\": \"\(Base64.encode(Self.master))\",\n  \"token\": \"\(token)\"\n}"
            .write(toFile: path + "/access.key", atomically: true, encoding: .utf8)
    }

    @Test func aV2TerminalGetsTheDerivedContentKeyAndDataKeyCredentials() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let laptop = scratch.path + "/laptop", headless = scratch.path + "/headless"
        try await legacyHome(laptop, server)

        let login = try Spawned(
            Binaries.happy, ["auth", "login", "--method", "mobile", "--timeout", "60"],
            environment: env(home: headless, server: server.url), in: scratch.path)
        try await login.waitForOutput { $0.contains("happy://terminal?") }
        let url = try #require(login.stdout.split(separator: "\n").first { $0.hasPrefix("happy://terminal?") })
        let approve = try await Spawned.run(
            Binaries.happy, ["auth", "approve", String(url)],
            environment: env(home: laptop, server: server.url), in: scratch.path)
        #expect(approve.status == 0, "stderr: \(approve.stderr)")
        #expect(approve.stdout.contains("(v2 answer)"))
        #expect(await login.wait() == 0, "stderr: \(login.stderr)")

        let key = try JSONParser.parse(try String(contentsOfFile: headless + "/access.key", encoding: .utf8))
        #expect(key["encryption"]?["publicKey"]?.stringValue == Self.knownContentKey)
        #expect(key["encryption"]?["machineKey"]?.stringValue.flatMap(Base64.decode)?.count == 32)
        #expect(key["secret"] == nil)
        let status = try await Spawned.run(
            Binaries.happy, ["auth", "status", "--json"],
            environment: env(home: headless, server: server.url), in: scratch.path)
        #expect(
            try JSONParser.parse(status.stdout.trimmingCharacters(in: .newlines))["credentialType"]
                == .string("dataKey"))
    }

    /// A request made without `supportsV2` (an old terminal) is answered with the master secret (v1). The approving
    /// home names its self-hosted server only in settings.json, as the TypeScript CLI's `happy server` leaves it.
    @Test func aTerminalWithoutV2GetsTheMasterSecret() async throws {
        let server = try await LocalServer()
        defer { server.stopNow() }
        let scratch = try Scratch()
        let laptop = scratch.path + "/laptop"
        try await legacyHome(laptop, server)
        try "{\n  \"serverUrl\": \"\(server.url)\"\n}".write(
            toFile: laptop + "/settings.json", atomically: true, encoding: .utf8)

        let terminal = try BoxKeyPair.generate()
        let body = #"{"publicKey": "\#(Base64.encode(terminal.publicKey))"}"#
        #expect(try await post(server, "/v1/auth/request", body)["state"] == .string("requested"))
        let approve = try await Spawned.run(
            Binaries.happy, ["auth", "approve", "happy://terminal?" + Base64.encodeURL(terminal.publicKey)],
            environment: env(home: laptop, server: nil), in: scratch.path)
        #expect(approve.status == 0, "stderr: \(approve.stderr)")
        #expect(approve.stdout.contains("(v1 answer)"))

        let answer = try await post(server, "/v1/auth/request", body)
        let bundle = try #require(answer["response"]?.stringValue.flatMap(Base64.decode))
        guard case .legacy(let secret) = try AuthBundle.open(bundle, with: terminal) else {
            Issue.record("expected the master secret (v1)")
            return
        }
        #expect(secret.withUnsafeBytes { Array($0) } == Self.master)
    }
}
