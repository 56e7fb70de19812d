import Testing

@testable import HappyKit

/// How status shows a server or web app URL: userinfo redacted, and invalid ones marked with login's reason.
@Suite struct StatusURLTests {
    @Test(arguments: [
        ("https://ada:hunter2@h.example/api", "https://***@h.example/api"),
        ("https://ada@h.example", "https://***@h.example"),
        ("http://a:b@c@h.example:8080/x?y=@z", "http://***@h.example:8080/x?y=@z"),
        ("https://h.example/p@th", "https://h.example/p@th"),
        ("javascript:alert(1)", "javascript:alert(1)"),
    ])
    func redactsUserinfo(raw: String, shown: String) {
        #expect(StatusURL.redacted(raw) == shown)
    }

    @Test func marksWhatLoginWouldRefuseWithItsReason() {
        let bad = StatusURL(ResolvedURL(url: "https://u:p@h.example", source: .settings), which: "server")
        #expect(!bad.isValid)
        #expect(bad.problem == "serverUrl in settings.json must not contain a user name or password")
        let scheme = StatusURL(ResolvedURL(url: "file:///etc/passwd", source: .environment), which: "webapp")
        #expect(scheme.problem == "HAPPY_WEBAPP_URL must be an http:// or https:// URL")
        let good = StatusURL(ResolvedURL(url: "https://h.example", source: .default), which: "server")
        #expect(good.isValid && good.shown == "https://h.example")
    }
}
