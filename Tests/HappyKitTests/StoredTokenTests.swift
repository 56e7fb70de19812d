import Testing

@testable import HappyKit

/// `happy auth token`'s read (PROTOCOL §7): every kind of login, and one clear failure for the rest.
@Suite struct StoredTokenTests {
    let sandbox = Sandbox()

    @Test(arguments: [
        AccessKeyTests.legacyFixture,
        #"{"token": "tok.keyless-1", "certificate": {"identity": "a@b.example", "notAfter": "2030-01-01T00:00:00Z"}}"#,
    ])
    func readsTheTokenOfEveryKindOfLogin(file: String) throws {
        try sandbox.write(file, to: sandbox.home.accessKeyPath)
        let token = try StoredToken.read(from: sandbox.home)
        #expect(token == "tok.legacy-123" || token == "tok.keyless-1")
    }

    @Test func loggedOutIsOneLineAndExit1() {
        #expect(throws: HappyError.failed("not logged in, so there is no token; run `happy auth login` first")) {
            try StoredToken.read(from: sandbox.home)
        }
    }

    @Test func aDamagedAccessKeyNamesTheFile() throws {
        try sandbox.write(#"{"token": ""}"#, to: sandbox.home.accessKeyPath)
        let error = #expect(throws: HappyError.self) { try StoredToken.read(from: sandbox.home) }
        #expect(error?.exitStatus == .failure)
        #expect(error?.userMessage.contains(sandbox.home.accessKeyPath) == true)
    }
}
