import Foundation
import Testing

@testable import HappyKit

/// `DeviceLoginFlow` end to end against `StubTransport`, `TestTiming` and a recording console: what it writes, what it
/// prints, and where. Retries, timeouts and bad answers are in `DeviceLoginFailureTests`.
@Suite struct DeviceLoginFlowTests {
    let sandbox = Sandbox()
    let server = "https://happy.test"
    let transport = StubTransport()
    let timing = TestTiming()

    @Test func storesLegacyCredentialsExactlyAsTheTypeScriptCLI() async throws {
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on(
            "POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer, token: "tok.legacy-123"))
        let (console, screen) = Console.recording()
        try await login(console: console)

        let home = sandbox.home
        #expect(
            sandbox.read(home.accessKeyPath) == """
                {
                  "secret": "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=",
                  "token": "tok.legacy-123"
                }
                """)
        let machineId = try #require(screen.out.last?.split(separator: " ").last.map(String.init))
        #expect(UUID(uuidString: machineId) != nil)
        #expect(
            sandbox.read(home.settingsPath)
                == "{\n  \"schemaVersion\": 2,\n  \"onboardingCompleted\": false,\n  \"machineId\": \"\(machineId)\"\n}"
        )
        #expect(screen.out.last == "✓ Logged in (legacy credentials). Machine ID: \(machineId)")
        #expect(timing.sleeps == [.seconds(1)])  // polls once a second
        #expect(screen.err.last == "Credentials saved in \(home.path). Check them any time with `happy auth status`.")
        try expectPrivateFiles()
        #expect(transport.shutdowns == 1)
        transport.verifyConsumed()
    }

    @Test func storesDataKeyCredentialsWithAFreshMachineKey() async throws {
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on(
            "POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.dataKeyAnswer, token: "tok.datakey-456")
        )
        let (console, _) = Console.recording()
        try await login(console: console)

        let text = try #require(sandbox.read(sandbox.home.accessKeyPath))
        let json = try JSONParser.parse(text)
        let machineKeyText = try #require(json["encryption"]?["machineKey"]?.stringValue)
        let machineKey = try #require(Base64.decode(machineKeyText))
        #expect(machineKey.count == 32)
        #expect(machineKey != [UInt8](repeating: 0, count: 32))
        #expect(
            text == """
                {
                  "encryption": {
                    "publicKey": "wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t8=",
                    "machineKey": "\(machineKeyText)"
                  },
                  "token": "tok.datakey-456"
                }
                """)
        try expectPrivateFiles()
        transport.verifyConsumed()
    }

    @Test func acceptsAnAnswerToTheFirstRequest() async throws {
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, _) = Console.recording()
        try await login(console: console)
        #expect(sandbox.exists(sandbox.home.accessKeyPath))
        #expect(timing.sleeps.isEmpty)
        transport.verifyConsumed()
    }

    @Test func pollsWithTheSamePublicKeyAndPrintsItsURLAloneOnALine() async throws {
        transport.on("POST", "/v1/auth/request", times: 3, reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording()
        try await login(console: console)

        let keys = try transport.requests.map(Phone.terminalKey(of:))
        #expect(keys.count == 4)
        #expect(Set(keys.map { $0 }).count == 1)
        #expect(transport.requests.allSatisfy { $0.url == server + "/v1/auth/request" && $0.method == "POST" })
        let url = "happy://terminal?" + Base64.encodeURL(keys[0])
        #expect(url.count == "happy://terminal?".count + 43)
        #expect(screen.out.contains(url))
        #expect(screen.out.filter { $0.contains("happy://") } == [url])
        #expect(!screen.stderr.contains("happy://"))
    }

    @Test func drawsADecodableQRCodeOnStdout() async throws {
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording()
        try await login(console: console)

        let url = try #require(screen.out.first { $0.hasPrefix("happy://terminal?") })
        let matrix = try QRMatrix(encoding: url)
        let renderer = QRRenderer(style: .unicode)
        let rows = renderer.render(matrix)
        let start = try #require(screen.out.firstIndex(of: rows[0]))
        #expect(Array(screen.out[start..<(start + rows.count)]) == rows)
        #expect(renderer.decode(rows, size: matrix.size) == matrix)
    }

    @Test func usesASCIIAndInvertedQRWhenAsked() async throws {
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording(unicode: false)
        try await login(console: console, qrInverted: true)
        let url = try #require(screen.out.first { $0.hasPrefix("happy://terminal?") })
        let rows = QRRenderer(style: .ascii, inverted: true).render(try QRMatrix(encoding: url))
        #expect(screen.out.contains(rows[rows.count / 2]))
        #expect(screen.out.last?.hasPrefix("[ok] Logged in") == true)
    }

    @Test func skipsAQRCodeWiderThanTheTerminalButStillPrintsTheURL() async throws {
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording(width: 20)
        try await login(console: console)
        #expect(screen.out.allSatisfy { !$0.contains("█") && !$0.contains("▀") })
        #expect(screen.out.contains { $0.hasPrefix("happy://terminal?") })
        #expect(screen.stderr.contains("needs 41 columns but the terminal has 20"))
    }

    @Test func printsNoEscapeCharactersWhenNotATerminal() async throws {
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", reply: .json(503, "{}"))
        transport.on(
            "POST", "/v1/auth/request", fail: HappyError.serverUnreachable(server: server, reason: "connection reset"))
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording(terminal: false)
        try await login(console: console, random: 0.5)
        #expect(!screen.transcript.unicodeScalars.contains("\u{1B}"))
        #expect(screen.errRaw.isEmpty)
        #expect(screen.err.contains("Waiting for approval from happy.test (timeout 120 s)..."))
    }

    @Test func drawsASpinnerOnlyOnATerminal() async throws {
        transport.on("GET", "/v1/features", reply: .json(200, #"{"features":{"mtls":{"enabled":false}}}"#))
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording(stdin: ["1"], terminal: true)
        try await login(console: console, method: nil)
        #expect(
            screen.errRaw.contains {
                $0.hasPrefix("\r\u{1B}[2K") && $0.contains("Waiting for approval from happy.test")
            })
        #expect(screen.errRaw.last == "\r\u{1B}[2K")  // the spinner line is erased before the result
        #expect(screen.unreadInput.isEmpty)
    }

    @Test func asksForTheMethodOnATerminalAndOpensTheWebApp() async throws {
        transport.on("GET", "/v1/features", reply: .json(404, "{}"))
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.dataKeyAnswer))
        let (console, screen) = Console.recording(stdin: ["x", "2"], terminal: true)
        let browser = RecordingBrowser()
        try await login(console: console, method: nil, browser: browser)
        #expect(screen.err.contains("Please answer 1 or 2."))
        #expect(!screen.err.contains { $0.contains("3)") })  // no mTLS advertised: no third choice
        #expect(browser.urls.count == 1)
        #expect(browser.urls.first?.hasPrefix("https://app.happy.engineering/terminal/connect#key=") == true)
    }

    @Test func webMethodPrintsTheWebappLinkAndOpensTheBrowser() async throws {
        transport.on("POST", "/v1/auth/request", reply: Phone.pending)
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording()
        let browser = RecordingBrowser()
        try await login(
            console: console, method: .web, browser: browser,
            environment: ["HAPPY_WEBAPP_URL": "https://web.example.test/"])

        let key = Base64.encodeURL(try Phone.terminalKey(of: transport.requests[0]))
        let link = "https://web.example.test/terminal/connect#key=\(key)"
        #expect(screen.out.contains(link))
        #expect(browser.urls == [link])
        #expect(!screen.out.contains { $0.hasPrefix("happy://") || $0.contains("█") })
        #expect(screen.stderr.contains("Opened the browser"))
    }

    @Test func webMethodWithoutBrowserOnlyPrintsTheLink() async throws {
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording()
        try await login(console: console, method: .web, openBrowser: false)  // the failing browser must not be used
        #expect(screen.out.contains { $0.hasPrefix("https://app.happy.engineering/terminal/connect#key=") })
        #expect(screen.stderr.contains("Open the URL above"))
    }

    @Test func reportsAnExistingLoginWithoutTouchingTheNetwork() async throws {
        try sandbox.write(#"{"token": "tok.existing-000"}"#, to: sandbox.home.accessKeyPath)
        try sandbox.write(#"{"machineId": "m-1"}"#, to: sandbox.home.settingsPath)
        let (console, screen) = Console.recording()
        let context = HappyContext.test(home: sandbox.home, console: console)  // no transport, no clock
        try await LoginFlow(options: LoginOptions(server: .test(server)), context: context).run()
        #expect(
            screen.out == [
                "✓ Already authenticated", "  Machine ID: m-1", "  Host: test-host",
                "  Use 'happy auth login --force' to re-authenticate",
            ])
        #expect(!screen.transcript.contains("tok.existing"))
    }

    @Test func refusesToLoginOverACorruptAccessKeyWithoutForce() async throws {
        try sandbox.write("{not json", to: sandbox.home.accessKeyPath)
        let context = HappyContext.test(home: sandbox.home, console: Console.recording().console)
        let error = await #expect(throws: HappyError.self) {
            try await LoginFlow(options: LoginOptions(server: .test(server)), context: context).run()
        }
        guard case .fileProblem(let path, let reason)? = error else {
            Issue.record("\(String(describing: error))"); return
        }
        #expect(path == sandbox.home.accessKeyPath)
        #expect(reason.contains("--force"))
        #expect(sandbox.read(sandbox.home.accessKeyPath) == "{not json")
    }

    @Test func forceReplacesCorruptCredentialsAndKeepsOtherSettings() async throws {
        try sandbox.write("{not json", to: sandbox.home.accessKeyPath)
        try sandbox.write("{\n  \"machineId\": \"old\",\n  \"theme\": \"dark\"\n}", to: sandbox.home.settingsPath)
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording()
        try await login(console: console, force: true)
        #expect(try AccessKey.load(from: sandbox.home)?.token == "tok.approved-789")
        let settings = try Settings.load(from: sandbox.home)
        #expect(settings.machineId != "old")
        #expect(settings.json["theme"] == .string("dark"))
        #expect(screen.stderr.contains("Cleared the old credentials and machine ID."))
    }

    @Test func refusesACorruptSettingsFileBeforeAnyNetwork() async throws {
        try sandbox.write("{oops", to: sandbox.home.settingsPath)
        let context = HappyContext.test(home: sandbox.home, console: Console.recording().console)  // no transport
        let error = await #expect(throws: HappyError.self) {
            try await LoginFlow(options: LoginOptions(server: .test(server)) { $0.method = .mobile }, context: context)
                .run()
        }
        guard case .fileProblem(let path, _)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path == sandbox.home.settingsPath)
        #expect(sandbox.listing(sandbox.home.path) == ["settings.json"])
    }

    @Test func forceSetsACorruptSettingsFileAside() async throws {
        try sandbox.write("{oops", to: sandbox.home.settingsPath)
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.legacyAnswer))
        let (console, screen) = Console.recording()
        try await login(console: console, force: true)
        #expect(sandbox.read(sandbox.home.settingsPath + ".corrupt") == "{oops")
        #expect(try Settings.load(from: sandbox.home).machineId != nil)
        #expect(screen.stderr.contains("settings.json.corrupt"))
    }

    @Test func neverPrintsTheToken() async throws {
        let token = "tok-SECRET-4f1e2d3c4b5a69788796a5b4c3d2e1f0"
        transport.on("POST", "/v1/auth/request", respond: Phone.approve(plaintext: Phone.dataKeyAnswer, token: token))
        let (console, screen) = Console.recording()
        try await login(console: console)
        #expect(!screen.transcript.contains(token))
        #expect(!screen.transcript.contains("SECRET"))
    }

    // MARK: helpers

    private func login(
        console: Console, method: LoginMethod? = .mobile, force: Bool = false, openBrowser: Bool = true,
        qrInverted: Bool = false, browser: (any BrowserOpener)? = nil, environment: [String: String] = [:],
        random: Double? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let context = HappyContext.test(
            home: sandbox.home, console: console, transport: transport, timing: timing, environment: environment,
            browser: browser, random: random, sourceLocation: sourceLocation)
        let options = LoginOptions(server: .test(server)) {
            $0.method = method
            $0.force = force
            $0.openBrowser = openBrowser
            $0.timeout = .seconds(120)
            $0.qrInverted = qrInverted
        }
        try await LoginFlow(options: options, context: context).run()
    }

    private func expectPrivateFiles(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let home = sandbox.home
        #expect(sandbox.mode(of: home.path) == 0o700, sourceLocation: sourceLocation)
        #expect(sandbox.mode(of: home.accessKeyPath) == 0o600, sourceLocation: sourceLocation)
        #expect(sandbox.mode(of: home.settingsPath) == 0o600, sourceLocation: sourceLocation)
        #expect(sandbox.listing(home.path) == ["access.key", "settings.json"], sourceLocation: sourceLocation)
    }
}
