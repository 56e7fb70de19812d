import Foundation
import Testing

@testable import HappyKit

/// PROTOCOL §3: `--server` > `HAPPY_SERVER_URL` > `settings.serverUrl` > default; `HAPPY_WEBAPP_URL` >
/// `settings.webappUrl` > default; empty values count as absent. `status` shows the server and its source.
@Suite struct ServerPrecedenceTests {
    let sandbox = Sandbox()

    struct Row: Sendable, CustomTestStringConvertible {
        var flag: String?
        var env: String?
        var settings: String?
        var expected: String
        var source: ResolvedURL.Source
        var testDescription: String { "flag \(flag ?? "-"), env \(env ?? "-"), settings \(settings ?? "-")" }
    }

    static let rows: [Row] = [
        Row(
            flag: "https://flag.example", env: "https://env.example", settings: "https://set.example",
            expected: "https://flag.example", source: .flag),
        Row(
            flag: nil, env: "https://env.example", settings: "https://set.example", expected: "https://env.example",
            source: .environment),
        Row(flag: nil, env: nil, settings: "https://set.example/", expected: "https://set.example", source: .settings),
        Row(flag: nil, env: nil, settings: nil, expected: "https://api.cluster-fluster.com", source: .default),
        Row(flag: "", env: "", settings: "https://set.example", expected: "https://set.example", source: .settings),
        Row(flag: "", env: "https://env.example", settings: "", expected: "https://env.example", source: .environment),
        Row(flag: nil, env: "", settings: "", expected: "https://api.cluster-fluster.com", source: .default),
    ]

    func settings(serverUrl: String?, webappUrl: String? = nil) -> Settings {
        var json = Settings.typeScriptDefaults.json
        if let serverUrl { json.set("serverUrl", .string(serverUrl)) }
        if let webappUrl { json.set("webappUrl", .string(webappUrl)) }
        return Settings(json: json)
    }

    @Test(arguments: rows)
    func serverFollowsThePrecedence(row: Row) {
        let env = row.env.map { ["HAPPY_SERVER_URL": $0] } ?? [:]
        let resolved = ResolvedURL.server(flag: row.flag, environment: env, settings: settings(serverUrl: row.settings))
        #expect(resolved == ResolvedURL(url: row.expected, source: row.source))
    }

    @Test(arguments: [
        (
            Optional("https://env.example"), Optional("https://set.example"), "https://env.example",
            ResolvedURL.Source.environment
        ),
        (nil, "https://set.example", "https://set.example", .settings),
        ("", "https://set.example", "https://set.example", .settings),
        (nil, "", "https://app.happy.engineering", .default),
        (nil, nil, "https://app.happy.engineering", .default),
    ])
    func webappFollowsThePrecedence(env: String?, setting: String?, expected: String, source: ResolvedURL.Source) {
        let environment = env.map { ["HAPPY_WEBAPP_URL": $0] } ?? [:]
        let resolved = ResolvedURL.webapp(
            environment: environment, settings: settings(serverUrl: nil, webappUrl: setting))
        #expect(resolved == ResolvedURL(url: expected, source: source))
    }

    @Test func aServerUrlThatIsNotAStringCountsAsAbsent() throws {
        let json = try JSONParser.parse(#"{"serverUrl": 42, "webappUrl": null}"#)
        #expect(ResolvedURL.server(flag: nil, environment: [:], settings: Settings(json: json)).source == .default)
        #expect(ResolvedURL.webapp(environment: [:], settings: Settings(json: json)).source == .default)
    }

    @Test func theContextReadsSettingsFromTheHome() throws {
        try sandbox.write(
            #"{"serverUrl": "http://127.0.0.1:3005", "webappUrl": "http://127.0.0.1:8081/"}"#,
            to: sandbox.home.settingsPath)
        let context = HappyContext.test(home: sandbox.home)
        #expect(context.server(override: nil) == ResolvedURL(url: "http://127.0.0.1:3005", source: .settings))
        #expect(try context.serverURL(flag: .test("https://flag.example")).string == "https://flag.example")
        #expect(try context.serverURL(flag: nil).string == "http://127.0.0.1:3005")
        #expect(try context.webappURL().string == "http://127.0.0.1:8081")
        let env = HappyContext.test(home: sandbox.home, environment: ["HAPPY_SERVER_URL": "https://env.example"])
        #expect(env.server(override: nil) == ResolvedURL(url: "https://env.example", source: .environment))
    }

    /// A corrupt settings.json names no server (it is reported where it is read: status, login's preflight).
    @Test func aCorruptSettingsFileNamesNoServer() throws {
        try sandbox.write("{oops", to: sandbox.home.settingsPath)
        let context = HappyContext.test(home: sandbox.home)
        #expect(context.server(override: nil) == ResolvedURL(url: "https://api.cluster-fluster.com", source: .default))
        #expect(try context.webappURL().string == "https://app.happy.engineering")
    }

    @Test(arguments: [
        ([String: String](), "https://api.cluster-fluster.com", "default", "(default)"),
        (["HAPPY_SERVER_URL": "https://env.example"], "https://env.example", "environment", "(from HAPPY_SERVER_URL)"),
        (["HAPPY_SERVER_URL": ""], "http://127.0.0.1:3005", "settings", "(from serverUrl in settings.json)"),
    ])
    func statusShowsTheServerAndWhereItCameFrom(env: [String: String], url: String, source: String, words: String)
        throws
    {
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        if source != "default" {
            try sandbox.write(
                #"{"machineId": "m-1", "serverUrl": "http://127.0.0.1:3005"}"#, to: sandbox.home.settingsPath)
        }
        let report = StatusReport.load(context: .test(home: sandbox.home, environment: env))
        let json = try JSONParser.parse(report.json(now: TestTiming.defaultNow))
        #expect(
            json["server"] == .object([("url", .string(url)), ("source", .string(source)), ("valid", .bool(true))]))
        let (console, screen) = Console.recording()
        report.show(on: console, now: TestTiming.defaultNow)
        #expect(screen.out.contains("  Server: \(url) \(words)"))
    }
}
