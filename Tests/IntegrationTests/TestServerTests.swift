import AsyncHTTPClient
import Foundation
import HappyKit
import HappyTestServer
import NIOCore
import NIOHTTP1
import Testing

/// HappyTestServer in-process on 127.0.0.1:0, every endpoint of PROTOCOL §1 and the `/_test/` controls over real
/// HTTP. Request bodies are written by hand here and replies parsed with JSONSerialization, independently of both
/// HappyKit's wire models and the server's own JSON code.
@Suite("HappyTestServer (PROTOCOL §1)")
struct TestServerTests {
    @Test func requestRejectsKeysThatAreNot32Bytes() async throws {
        try await withServer { server in
            for key in [Base64.encode([UInt8](repeating: 1, count: 31)), "not base64!", ""] {
                let reply = try await server.post("/v1/auth/request", #"{"publicKey": "\#(key)", "supportsV2": true}"#)
                #expect(reply.status == 401)
                #expect(reply.json == ["error": "Invalid public key"] as NSDictionary)
            }
        }
    }

    @Test func malformedBodiesAre400WithAnError() async throws {
        try await withServer { server in
            for path in ["/v1/auth/request", "/v1/auth", "/_test/faults"] {
                for body in ["{\"publicKey\": ", "[1, 2]", #"{"publicKey": 5}"#, #"{"failPolls": "x"}"#] {
                    let reply = try await server.post(path, body)
                    if path == "/_test/faults", body == #"{"publicKey": 5}"# { continue }  // unknown keys are ignored
                    #expect(reply.status == 400, "\(path) \(body)")
                    #expect(reply.json?["error"] is String, "\(path) \(body)")
                }
            }
            let key = Base64.encode(try BoxKeyPair.generate().publicKey)
            let numberAsBool = try await server.post("/v1/auth/request", #"{"publicKey": "\#(key)", "supportsV2": 1}"#)
            #expect(numberAsBool.status == 400)
        }
    }

    @Test func requestIsAnIdempotentUpsertAndStatusFollowsIt() async throws {
        try await withServer { server in
            let key = Base64.encode(try BoxKeyPair.generate().publicKey)
            #expect(try await server.status(key).text == #"{"status":"not_found","supportsV2":false}"#)
            for _ in 0..<2 {
                let reply = try await server.post(
                    "/v1/auth/request", #"{"publicKey": "\#(key)", "supportsV2": true}"#,
                    headers: ["X-Happy-Client": "cli/9"])
                #expect(reply.status == 200)
                #expect(reply.json == ["state": "requested"] as NSDictionary)
            }
            // The first call fixes supportsV2, as happy-server's upsert does.
            _ = try await server.post("/v1/auth/request", #"{"publicKey": "\#(key)", "supportsV2": false}"#)
            // Exact text pins the JSON literals (`true`, not `1`), which NSDictionary equality cannot tell apart.
            #expect(try await server.status(key).text == #"{"status":"pending","supportsV2":true}"#)

            let listed = try #require(try await server.get("/_test/requests").json?["requests"] as? [NSDictionary])
            #expect(listed.count == 1)
            #expect(listed.first?["publicKey"] as? String == key)
            #expect(listed.first?["polls"] as? Int == 3)
            #expect(listed.first?["supportsV2"] as? Bool == true)
            #expect(listed.first?["clientHeader"] is NSNull)

            let withoutFlag = Base64.encode(try BoxKeyPair.generate().publicKey)
            _ = try await server.post("/v1/auth/request", #"{"publicKey": "\#(withoutFlag)"}"#)
            #expect(try await server.status(withoutFlag).json?["supportsV2"] as? Bool == false)
        }
    }

    @Test func statusQueryIsFormDecodedSoAPlusMustBePercentEncoded() async throws {
        try await withServer { server in
            let key = Base64.encode([0xFB] + [UInt8](repeating: 0xEF, count: 31))  // contains "+" and "/"
            #expect(key.contains("+"))
            _ = try await server.post("/v1/auth/request", #"{"publicKey": "\#(key)", "supportsV2": true}"#)
            #expect(
                try await server.get("/v1/auth/request/status?publicKey=\(key)").json?["status"] as? String
                    == "not_found")
            #expect(try await server.status(key).json?["status"] as? String == "pending")
        }
    }

    @Test func challengeLoginChecksTheSignature() async throws {
        try await withServer { server in
            let account = try PhoneAccount.random()
            let keys = try SigningKeyPair(seed: try SecretBytes.random(count: 32))
            let challenge = SigningKeyPair.randomChallenge()
            let good = try await server.post("/v1/auth", login(keys, challenge, keys.sign(challenge)))
            #expect(good.status == 200)
            #expect(good.text.hasPrefix(#"{"success":true,"token":""#))
            #expect((good.json?["token"] as? String)?.isEmpty == false)

            let other = SigningKeyPair.randomChallenge()
            for body in [login(keys, challenge, keys.sign(other)), login(keys, challenge, [1, 2, 3])] {
                let bad = try await server.post("/v1/auth", body)
                #expect(bad.status == 401)
                #expect(bad.json == ["error": "Invalid signature"] as NSDictionary)
            }
            _ = account
        }
    }

    @Test func responseNeedsAValidBearerAndAKnownRequest() async throws {
        try await withServer { server in
            let key = Base64.encode(try BoxKeyPair.generate().publicKey)
            let body = #"{"publicKey": "\#(key)", "response": "AAAA"}"#
            for headers in [[:], ["Authorization": "Bearer nope"], ["Authorization": "Basic abc"]] {
                let reply = try await server.post("/v1/auth/response", body, headers: headers)
                #expect(reply.status == 401)
                #expect(reply.json == ["error": "Unauthorized"] as NSDictionary)
            }
            let token = try await server.loginToken()
            let unknown = try await server.post(
                "/v1/auth/response", body, headers: ["Authorization": "Bearer \(token)"])
            #expect(unknown.status == 404)
            #expect(unknown.json == ["error": "Request not found"] as NSDictionary)
        }
    }

    @Test(arguments: [true, false])
    func approvalOverHTTPOpensToTheExpectedContent(supportsV2: Bool) async throws {
        let secret = try SecretBytes.random(count: 32)
        try await withServer(secret: secret) { server in
            let terminal = try BoxKeyPair.generate()
            let key = Base64.encode(terminal.publicKey)
            let body = #"{"publicKey": "\#(key)", "supportsV2": \#(supportsV2)}"#
            _ = try await server.post("/v1/auth/request", body)

            let phone = try PhoneAccount(masterSecret: secret)
            let sent = try await PhoneApprover(serverURL: server.url, account: phone, client: server.client)
                .approve(terminalPublicKey: terminal.publicKey)
            #expect(sent == (supportsV2 ? .v2 : .v1))
            #expect(try await server.status(key).json?["status"] as? String == "authorized")
            #expect(try await server.get("/_test/requests").text == #"{"requests":[]}"#)

            let reply = try await server.post("/v1/auth/request", body)
            #expect(reply.json?["state"] as? String == "authorized")
            let token = try #require(reply.json?["token"] as? String)
            let bundle = try #require(reply.bundle)
            switch try AuthBundle.open(bundle, with: terminal) {
            case .legacy(let opened):
                #expect(!supportsV2)
                #expect(opened.isEqual(to: secret))
            case .dataKey(let publicKey):
                #expect(supportsV2)
                #expect(publicKey == phone.contentPublicKey)
                #expect(publicKey == (try KeyTree.contentPublicKey(masterSecret: secret)))
            }
            // The token belongs to the approving account: it is accepted as a bearer (404, not 401).
            let check = try await server.post(
                "/v1/auth/response",
                #"{"publicKey": "\#(Base64.encode(try BoxKeyPair.generate().publicKey))", "response": "AA=="}"#,
                headers: ["Authorization": "Bearer \(token)"])
            #expect(check.status == 404)
        }
    }

    @Test(arguments: [PhoneAccount.Payload.badVersion, .badLength, .legacy])
    func deliberatelyBadAnswersFailToOpen(payload: PhoneAccount.Payload) async throws {
        try await withServer { server in
            let terminal = try BoxKeyPair.generate()
            _ = try await server.post(
                "/v1/auth/request", #"{"publicKey": "\#(Base64.encode(terminal.publicKey))", "supportsV2": true}"#)
            let tamper = payload == .legacy  // a well-formed v1 answer, but with one ciphertext byte flipped
            _ = try await PhoneApprover(serverURL: server.url, account: try .random(), client: server.client)
                .approve(terminalPublicKey: terminal.publicKey, options: .init(payload: payload, tamper: tamper))
            let reply = try await server.post(
                "/v1/auth/request", #"{"publicKey": "\#(Base64.encode(terminal.publicKey))"}"#)
            let bundle = try #require(reply.bundle)
            #expect(throws: HappyError.self) { try AuthBundle.open(bundle, with: terminal) }
        }
    }

    @Test func approverRefusesUnknownAndAnsweredRequests() async throws {
        try await withServer { server in
            let terminal = try BoxKeyPair.generate()
            let approver = PhoneApprover(serverURL: server.url, account: try .random(), client: server.client)
            await #expect { try await approver.approve(terminalPublicKey: terminal.publicKey) } throws: {
                "\($0)".contains("not_found")
            }
            _ = try await server.post("/v1/auth/request", #"{"publicKey": "\#(Base64.encode(terminal.publicKey))"}"#)
            #expect(
                try await approver.approve(terminalPublicKey: terminal.publicKey, options: .init(version: .v2)) == .v2)
            await #expect { try await approver.approve(terminalPublicKey: terminal.publicKey) } throws: {
                "\($0)".contains("already authorized")
            }
        }
    }

    @Test func failureBurstAnswersTheStatusThenRecovers() async throws {
        try await withServer { server in
            let body = #"{"publicKey": "\#(Base64.encode(try BoxKeyPair.generate().publicKey))", "supportsV2": true}"#
            let set = try await server.post("/_test/faults", #"{"failPolls": 2, "failStatus": 503, "retryAfter": 3}"#)
            #expect(set.json == ["failPolls": 2, "failStatus": 503, "retryAfter": 3, "dropPolls": 0] as NSDictionary)
            for _ in 0..<2 {
                let failed = try await server.post("/v1/auth/request", body)
                #expect(failed.status == 503)
                #expect(failed.headers.first(name: "Retry-After") == "3")
            }
            #expect(try await server.post("/v1/auth/request", body).json == ["state": "requested"] as NSDictionary)

            _ = try await server.post("/_test/faults", #"{"failPolls": 1, "failStatus": 500, "retryAfter": null}"#)
            let failed = try await server.post("/v1/auth/request", body)
            #expect(failed.status == 500)
            #expect(failed.headers.first(name: "Retry-After") == nil)
            #expect(try await server.post("/v1/auth/request", body).status == 200)
        }
    }

    @Test func droppedPollsCloseTheConnectionWithoutAResponse() async throws {
        try await withServer { server in
            let body = #"{"publicKey": "\#(Base64.encode(try BoxKeyPair.generate().publicKey))"}"#
            _ = try await server.post("/_test/faults", #"{"failPolls": 1, "dropPolls": 2}"#)
            #expect(try await server.post("/v1/auth/request", body).status == 503)
            for _ in 0..<2 {
                await #expect(throws: HTTPClientError.self) { try await server.post("/v1/auth/request", body) }
            }
            #expect(try await server.get("/_test/faults").json?["dropPolls"] as? Int == 0)
            #expect(try await server.post("/v1/auth/request", body).json == ["state": "requested"] as NSDictionary)
        }
    }

    @Test func featuresSayMTLSIsOffAndItsLoginIs404() async throws {
        try await withServer { server in
            let features = try await server.get("/v1/features")
            #expect(features.text == #"{"features":{"mtls":{"enabled":false}}}"#)
            let login = try await server.post("/v1/auth/mtls", "{}")
            #expect(login.status == 404)
        }
    }

    @Test func builtInAccountApprovesThroughTheControlEndpoint() async throws {
        let secret = try SecretBytes.random(count: 32)
        try await withServer(secret: secret) { server in
            let account = try #require(try await server.get("/_test/account").json)
            #expect(
                account["contentPublicKey"] as? String
                    == Base64.encode(try KeyTree.contentPublicKey(masterSecret: secret)))
            #expect(account["loginPublicKey"] as? String == Base64.encode(try SigningKeyPair(seed: secret).publicKey))

            let terminal = try BoxKeyPair.generate()
            let urlKey = Base64.encodeURL(terminal.publicKey)
            #expect(try await server.post("/_test/approve", #"{"publicKey": "\#(urlKey)"}"#).status == 404)
            _ = try await server.post("/v1/auth/request", #"{"publicKey": "\#(Base64.encode(terminal.publicKey))"}"#)
            let approved = try await server.post("/_test/approve", #"{"publicKey": "happy://terminal?\#(urlKey)"}"#)
            #expect(approved.text == #"{"success":true,"version":"v1"}"#)
            let reply = try await server.post(
                "/v1/auth/request", #"{"publicKey": "\#(Base64.encode(terminal.publicKey))"}"#)
            let bundle = try #require(reply.bundle)
            guard case .legacy(let opened) = try AuthBundle.open(bundle, with: terminal) else {
                Issue.record("expected a v1 answer")
                return
            }
            #expect(opened.isEqual(to: secret))
        }
    }

    @Test func terminalKeysParseFromEveryForm() throws {
        let key = [0xFB] + [UInt8](repeating: 0xEF, count: 31)
        for text in [
            "happy://terminal?\(Base64.encodeURL(key))", Base64.encodeURL(key), Base64.encode(key),
            "https://app.happy.engineering/terminal/connect#key=\(Base64.encodeURL(key))",
        ] {
            #expect(PhoneAccount.terminalPublicKey(from: text) == key, "\(text)")
        }
        #expect(PhoneAccount.terminalPublicKey(from: "happy://terminal?abc") == nil)
    }
}

extension TestServerTests {
    /// The `happy-test-server` binary: one stdout line, the phone CLI's flags, a clean exit on SIGTERM.
    @Test func binaryServesAndApproves() async throws {
        let scratch = try Scratch()
        let secret = Base64.encode((0..<32).map { UInt8($0) })
        let env = TestEnvironment.clean(["HAPPY_TEST_SERVER_SECRET": secret])
        let serve = try Spawned(Binaries.server, ["serve", "--port", "0"], environment: env, in: scratch.path)
        defer { serve.stopNow() }
        try await serve.waitForOutput { $0.contains("\n") }
        let lines = serve.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty)
        #expect(lines[0].wholeMatch(of: /listening on http:\/\/127\.0\.0\.1:[1-9][0-9]*/) != nil)
        let url = String(lines[0].dropFirst("listening on ".count))

        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let server = ServerClient(url: url, client: client)
        do {
            let terminal = try BoxKeyPair.generate()
            let key = Base64.encode(terminal.publicKey)
            _ = try await server.post("/v1/auth/request", #"{"publicKey": "\#(key)", "supportsV2": true}"#)

            var noSecret = env
            noSecret.removeValue(forKey: "HAPPY_TEST_SERVER_SECRET")
            let usage = try await Spawned.run(
                Binaries.server, ["approve", "--server", url, "--v1", "--v2", key],
                environment: env, in: scratch.path)
            #expect(usage.status == 64)
            let approve = try await Spawned.run(
                Binaries.server,
                [
                    "approve", "--server", url, "--v1", "--secret", secret,
                    "happy://terminal?" + Base64.encodeURL(terminal.publicKey),
                ],
                environment: noSecret, in: scratch.path)
            #expect(approve.status == 0, "stderr: \(approve.stderr)")
            #expect(approve.stdout == "approved v1\n")
            #expect(!approve.stdout.contains(secret) && !approve.stderr.contains(secret))
            let again = try await Spawned.run(
                Binaries.server, ["approve", "--server", url, key], environment: env, in: scratch.path)
            #expect(again.status == 1)
            #expect(again.stderr.contains("already authorized"))

            let reply = try await server.post("/v1/auth/request", #"{"publicKey": "\#(key)"}"#)
            let bundle = try #require(reply.bundle)
            if case .legacy(let opened) = try AuthBundle.open(bundle, with: terminal) {
                #expect(opened.withUnsafeBytes { Base64.encode(Array($0)) } == secret)
            } else {
                Issue.record("expected a v1 answer")
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()

        serve.process.terminate()
        #expect(await serve.wait(seconds: 10) == 0)
        #expect(serve.stdout.split(separator: "\n").count == 1)
        #expect(!serve.stdout.contains(secret) && !serve.stderr.contains(secret))
    }
}

/// Runs `body` against a fresh in-process server and an HTTP client, and stops both afterwards.
private func withServer(
    secret: SecretBytes? = nil, _ body: (ServerClient) async throws -> Void
) async throws {
    let running = try await HappyTestServer(configuration: TestServerConfiguration(masterSecret: secret)).start()
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    var failure: (any Error)?
    do {
        try await body(ServerClient(url: running.baseURL, client: client))
    } catch {
        failure = error
    }
    do { try await client.shutdown() } catch { failure = failure ?? error }
    await running.stop()  // also when the client's shutdown failed
    if let failure { throw failure }
}

/// A `POST /v1/auth` body written by hand.
private func login(_ keys: SigningKeyPair, _ challenge: [UInt8], _ signature: [UInt8]) -> String {
    #"{"publicKey": "\#(Base64.encode(keys.publicKey))", "challenge": "\#(Base64.encode(challenge))", "#
        + #""signature": "\#(Base64.encode(signature))"}"#
}

private struct Reply {
    let status: Int
    let headers: HTTPHeaders
    let text: String
    var json: NSDictionary? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary }
    /// The decoded `response` bundle of an authorized poll.
    var bundle: [UInt8]? { (json?["response"] as? String).flatMap(Base64.decode) }
}

/// Plain AsyncHTTPClient calls with raw JSON text.
private struct ServerClient {
    let url: String
    let client: HTTPClient

    func post(_ path: String, _ json: String, headers: [String: String] = [:]) async throws -> Reply {
        try await send(.POST, path, body: json, headers: headers)
    }

    func get(_ path: String) async throws -> Reply { try await send(.GET, path, body: nil, headers: [:]) }

    /// `GET /v1/auth/request/status` with the key percent-encoded, as a careful client sends it.
    func status(_ key: String) async throws -> Reply {
        try await get(
            "/v1/auth/request/status?publicKey="
                + (key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key))
    }

    /// A bearer token for a fresh random account.
    func loginToken() async throws -> String {
        let keys = try SigningKeyPair(seed: try SecretBytes.random(count: 32))
        let challenge = SigningKeyPair.randomChallenge()
        let reply = try await post("/v1/auth", login(keys, challenge, keys.sign(challenge)))
        return try #require(reply.json?["token"] as? String)
    }

    func send(_ method: HTTPMethod, _ path: String, body: String?, headers: [String: String]) async throws -> Reply {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, text: String(buffer: bytes))
    }
}
