import Foundation
import Testing

@testable import HappyKit

/// Proxy choice from the environment, the way curl makes it (see `ProxySettings`).
@Suite struct ProxySettingsTests {
    typealias Proxy = ProxySettings.Proxy

    private func proxy(_ url: String, _ environment: [String: String]) throws -> Proxy? {
        try ProxySettings(environment: environment).proxy(for: url)
    }

    @Test func noProxyWithoutSettings() throws {
        #expect(try proxy("https://api.example.com", [:]) == nil)
    }

    @Test func httpsURLsUseHttpsProxyAndLowerCaseWins() throws {
        #expect(
            try proxy("https://api.example.com/v1", ["HTTPS_PROXY": "http://upper:3128"])
                == Proxy(host: "upper", port: 3128, credentials: nil))
        #expect(
            try proxy(
                "https://api.example.com/v1", ["https_proxy": "http://lower:3128", "HTTPS_PROXY": "http://upper:3128"])
                == Proxy(host: "lower", port: 3128, credentials: nil))
        #expect(try proxy("https://api.example.com", ["http_proxy": "http://plain:80"]) == nil)
    }

    @Test func httpURLsUseHttpProxy() throws {
        #expect(
            try proxy("http://api.example.com", ["http_proxy": "http://plain:8080", "https_proxy": "http://tls:1"])
                == Proxy(host: "plain", port: 8080, credentials: nil))
    }

    @Test func allProxyIsTheFallback() throws {
        #expect(
            try proxy("https://api.example.com", ["ALL_PROXY": "http://all:9"])
                == Proxy(host: "all", port: 9, credentials: nil))
        #expect(
            try proxy("http://api.example.com", ["all_proxy": "all:9"]) == Proxy(host: "all", port: 9, credentials: nil)
        )
        #expect(
            try proxy("https://api.example.com", ["all_proxy": "http://all:9", "https_proxy": "http://tls:8"])
                == Proxy(host: "tls", port: 8, credentials: nil))
    }

    @Test func defaultsTheSchemeAndPortLikeCurl() throws {
        #expect(
            try proxy("https://api.example.com", ["https_proxy": "proxy.corp"])
                == Proxy(host: "proxy.corp", port: 1080, credentials: nil))
        #expect(
            try proxy("https://api.example.com", ["https_proxy": "  proxy.corp:3128  "])
                == Proxy(host: "proxy.corp", port: 3128, credentials: nil))
        #expect(
            try proxy("https://api.example.com", ["https_proxy": "", "HTTPS_PROXY": "upper:1"])
                == Proxy(host: "upper", port: 1, credentials: nil))
    }

    @Test(arguments: [
        ("http://user:pass@proxy:3128", "user:pass"), ("http://user@proxy:3128", "user"),
        ("http://us%40er:p%3Ass@proxy:3128", "us@er:p:ss"), ("http://user:100%25@proxy:3128", "user:100%"),
        ("http://user:%2541@proxy:3128", "user:%41"),
    ])
    func parsesCredentials(setting: String, credentials: String) throws {
        let chosen = try #require(try proxy("https://api.example.com", ["https_proxy": setting]))
        #expect(chosen.credentials == credentials)
        #expect(chosen.host == "proxy")
    }

    @Test(arguments: [
        "api.example.com", "example.com", ".example.com", "*.example.com", "other.org, example.com", " EXAMPLE.COM ",
        "*", "10.0.0.0/8", "api.example.com:443", "[2001:db8::1]", "2001:db8::1",
    ])
    func noProxyEntriesBypassTheProxy(entry: String) throws {
        let environment = ["https_proxy": "http://proxy:3128", "no_proxy": entry]
        let target =
            entry.contains("10.")
            ? "https://10.1.2.3/v1" : entry.contains("2001") ? "https://[2001:db8::1]/" : "https://api.example.com/v1"
        #expect(try proxy(target, environment) == nil)
    }

    @Test(arguments: [
        ("example.com", "https://badexample.com"), (".example.com", "https://example.org"),
        ("10.0.0.0/8", "https://11.0.0.1"), ("10.0.0.0/8", "https://10.example.com"),
        ("api.example.com", "https://example.com"),
        ("", "https://example.com"), (",,", "https://example.com"),
    ])
    func noProxyEntriesDoNotOvermatch(entry: String, target: String) throws {
        #expect(try proxy(target, ["https_proxy": "http://proxy:3128", "NO_PROXY": entry]) != nil)
    }

    @Test func leadingDotAlsoMatchesTheDomainItself() throws {
        #expect(try proxy("https://example.com", ["https_proxy": "http://proxy:1", "no_proxy": ".example.com"]) == nil)
    }

    @Test(arguments: ["http://127.0.0.1:8080/", "https://localhost/", "http://[::1]:3000/"])
    func loopbackIsProxiedLikeCurlUnlessNoProxyNamesIt(url: String) throws {
        let environment = ["http_proxy": "http://proxy:1", "https_proxy": "http://proxy:1"]
        #expect(try proxy(url, environment) == Proxy(host: "proxy", port: 1, credentials: nil))
        var bypassing = environment
        bypassing["no_proxy"] = "localhost,127.0.0.1,::1"
        #expect(try proxy(url, bypassing) == nil)
    }

    @Test(arguments: ["http://", "http://:3128", "socks5://proxy:1080", "ftp://proxy:21", "http://proxy:notaport"])
    func rejectsAProxySettingItCannotUse(setting: String) throws {
        let error = #expect(throws: HappyError.self) { try proxy("https://api.example.com", ["https_proxy": setting]) }
        guard case .usage? = error else { Issue.record("expected .usage, got \(String(describing: error))"); return }
        #expect(error?.exitStatus == .usage)
    }

    /// An https:// proxy would be spoken to in plain HTTP: refused in one line, its password never shown.
    @Test func refusesAnHTTPSProxyInsteadOfSendingCredentialsInClear() throws {
        let error = #expect(throws: HappyError.self) {
            try proxy("https://api.example.com", ["https_proxy": "https://user:hunter2@proxy:3128"])
        }
        #expect(error?.exitStatus == .usage)
        #expect(error?.userMessage.contains("https://***@proxy:3128") == true, "\(String(describing: error))")
        #expect(error?.userMessage.contains("hunter2") == false)
    }

    @Test func hidesThePasswordOfABadProxySetting() throws {
        let error = #expect(throws: HappyError.self) {
            try proxy("https://api.example.com", ["https_proxy": "http://user:hunter2@:bad"])
        }
        #expect(error?.userMessage.contains("hunter2") == false)
        #expect(ProxySettings.redact("http://user:hunter2@proxy:1") == "http://***@proxy:1")
        #expect(ProxySettings.redact("proxy:1") == "proxy:1")
    }

    @Test func targetsWithoutAHostAreDirect() throws {
        #expect(try proxy("not a url", ["https_proxy": "http://proxy:1"]) == nil)
    }
}
