import Foundation
import Testing

@testable import HappyKit

/// `happy auth status`: reads files only, never prints the whole token, one JSON object either way.
@Suite struct StatusReportTests {
    let sandbox = Sandbox()
    let now = TestTiming.defaultNow  // 2026-01-01T00:00:00Z

    private func loadReport(processes: ProcessControl? = nil) -> StatusReport {
        StatusReport.load(context: .test(home: sandbox.home, processes: processes))  // no console, transport or clock
    }

    @Test func notLoggedInWithoutAHome() throws {
        let report = loadReport()
        #expect(!report.isLoggedIn)
        #expect(report.credentialType == nil && report.tokenPreview == nil && report.machineId == nil)
        #expect(report.problem == nil)
        #expect(report.host == "test-host")
        #expect(report.dataDirectory == sandbox.home.path)
        #expect(!sandbox.exists(sandbox.home.path))
    }

    @Test(arguments: [
        (AccessKeyTests.legacyFixture, "legacy", "tok.legacy-123"),
        (AccessKeyTests.dataKeyFixture, "dataKey", "tok.datakey-456"),
        (AccessKeyTests.keylessFixture, "keyless", "tok.keyless-789"),
    ])
    func loggedInWithEachKind(fixture: String, kind: String, token: String) throws {
        try sandbox.write(fixture, to: sandbox.home.accessKeyPath)
        try sandbox.write("{\n  \"machineId\": \"m-42\"\n}", to: sandbox.home.settingsPath)
        let report = loadReport()
        #expect(report.isLoggedIn)
        #expect(report.credentialType == kind)
        #expect(report.machineId == "m-42")
        let preview = try #require(report.tokenPreview)
        #expect(!preview.contains(token))
        #expect(token.hasPrefix(String(preview.dropLast(3))))
        #expect(report.problem == nil)
        #expect((report.certificate != nil) == (kind == "keyless"))
    }

    @Test func corruptAccessKeyIsAProblemNotALogin() throws {
        try sandbox.write("{\"token\": ", to: sandbox.home.accessKeyPath)
        let report = loadReport()
        #expect(!report.isLoggedIn)
        #expect(report.problem?.contains("--force") == true)
        let (console, screen) = Console.recording()
        report.show(on: console, now: now)
        #expect(screen.err == [report.problem])
        #expect(screen.out.contains("✗ Not authenticated"))
    }

    @Test func corruptSettingsIsAProblemButTheLoginStands() throws {
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        try sandbox.write("[", to: sandbox.home.settingsPath)
        let report = loadReport()
        #expect(report.isLoggedIn)
        #expect(report.machineId == nil)
        #expect(report.problem?.contains("settings.json") == true)
    }

    @Test(arguments: 0...64)
    func tokenPreviewNeverShowsTheWholeToken(length: Int) {
        let token = String((0..<length).map { i in Character(UnicodeScalar(UInt8(97 + i % 26))) })
        let preview = StatusReport.preview(token)
        #expect(preview.hasSuffix("..."))
        let shown = preview.dropLast(3)
        #expect(shown.count <= 12 && shown.count <= length / 3)
        if length > 0 { #expect(!preview.contains(token)) }
    }

    @Test func daemonStateUsesTheInjectedProcessControl() throws {
        try sandbox.write(#"{"pid": 4242, "httpPort": 5555}"#, to: sandbox.home.daemonStatePath)
        let running = loadReport(processes: FakeDaemon(pid: 4242).control)
        #expect(running.daemonRunning && running.daemonPid == 4242)
        let stale = loadReport(processes: FakeDaemon(pid: 4242, alive: false).control)
        #expect(!stale.daemonRunning && stale.daemonPid == 4242)
    }

    @Test func textReportForALegacyLogin() throws {
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        try sandbox.write("{\n  \"machineId\": \"m-42\"\n}", to: sandbox.home.settingsPath)
        let (console, screen) = Console.recording()
        loadReport().show(on: console, now: now)
        #expect(
            screen.out == [
                "Authentication Status", "", "✓ Authenticated (legacy)", "  Token: tok....", "✓ Machine registered",
                "  Machine ID: m-42", "  Host: test-host", "  Server: https://api.cluster-fluster.com (default)",
                "  Web app: https://app.happy.engineering (default)", "",
                "  Data directory: \(sandbox.home.path)",
                "✗ Daemon not running",
            ])
        #expect(screen.err.isEmpty)
    }

    @Test(
        arguments: [
            ("2027-01-01T00:00:00Z", 365, nil), ("2026-01-10T00:00:00Z", 9, "(in 9 days; renew it soon)"),
            ("2025-12-01T00:00:00Z", -31, "(expired; log in again with a renewed certificate)"),
        ] as [(String, Int, String?)])
    func certificateExpiry(notAfter: String, days: Int, note: String?) throws {
        let key = AccessKey.keyless(
            token: "tok.keyless-789",
            metadata: CertificateLoginMetadata(
                identity: "alice@example.com", source: "san_email", issuer: "CN=CA", fingerprint: "AB",
                notAfter: notAfter))
        try key.store(in: sandbox.home)
        let report = loadReport()
        #expect(report.certificateDaysLeft(now: now) == days)
        let (console, screen) = Console.recording()
        report.show(on: console, now: now)
        let line = try #require(screen.out.first { $0.hasPrefix("  Certificate expires:") })
        #expect(line == "  Certificate expires: \(notAfter)" + (note.map { " " + $0 } ?? ""))
        #expect(!screen.transcript.unicodeScalars.contains("\u{1B}"))
        let json = try JSONParser.parse(report.json(now: now))
        #expect(json["certificate"]?["daysLeft"] == .number(String(days)))
        #expect(json["certificate"]?["identity"] == .string("alice@example.com"))
    }

    @Test func jsonIsOneParsableLineWhenLoggedIn() throws {
        try sandbox.write(AccessKeyTests.dataKeyFixture, to: sandbox.home.accessKeyPath)
        try sandbox.write("{\n  \"machineId\": \"m-42\"\n}", to: sandbox.home.settingsPath)
        try sandbox.write(#"{"pid": 4242, "httpPort": 5555}"#, to: sandbox.home.daemonStatePath)
        let text = loadReport(processes: FakeDaemon().control).json(now: now)
        #expect(!text.contains("\n"))
        #expect(!text.contains("tok.datakey-456"))
        let json = try JSONParser.parse(text)
        #expect(json["loggedIn"] == .bool(true))
        #expect(json["credentialType"] == .string("dataKey"))
        #expect(json["tokenPreview"] == .string("tok.d..."))
        #expect(json["machineId"] == .string("m-42"))
        #expect(json["host"] == .string("test-host"))
        #expect(json["dataDirectory"] == .string(sandbox.home.path))
        #expect(json["daemon"] == .object([("running", .bool(true)), ("pid", .number("4242"))]))
        #expect(json["problem"] == nil)
    }

    @Test func jsonIsOneParsableLineWhenNotLoggedIn() throws {
        try sandbox.write("garbage", to: sandbox.home.accessKeyPath)
        let text = loadReport().json(now: now)
        #expect(!text.contains("\n"))
        let json = try JSONParser.parse(text)
        #expect(json["loggedIn"] == .bool(false))
        #expect(json["tokenPreview"] == .null)
        #expect(json["daemon"]?["running"] == .bool(false))
        #expect(json["problem"]?.stringValue?.contains("access.key") == true)
    }
}
