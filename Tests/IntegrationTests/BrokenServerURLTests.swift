import Foundation
import Testing

/// A server URL that login would refuse (`HAPPY_SERVER_URL`, or `serverUrl` in settings.json, a file other tools
/// write) never stops a command that does not talk to a server: logout removes the login and status answers. Login
/// and approve, which do talk to it, still refuse it with exit 64 and change nothing.
@Suite("a broken server URL", .serialized)
struct BrokenServerURLTests {
    enum Where: String, CaseIterable { case environment, settings }

    private func loggedInHome(_ scratch: Scratch, broken: Where) throws -> [String: String] {
        let home = try scratch.legacyLoggedInHome()
        var env = ["HAPPY_HOME_DIR": home]
        switch broken {
        case .environment:
            env["HAPPY_SERVER_URL"] = "ftp://x"
        case .settings:
            try "{\n  \"machineId\": \"m-1\",\n  \"serverUrl\": \"ftp://x\"\n}".write(
                toFile: home + "/settings.json", atomically: true, encoding: .utf8)
        }
        return TestEnvironment.clean(env)
    }

    @Test(arguments: Where.allCases)
    func logoutStillLogsOut(broken: Where) async throws {
        let scratch = try Scratch()
        let env = try loggedInHome(scratch, broken: broken)
        let r = try await Spawned.run(Binaries.happy, ["auth", "logout", "-y"], environment: env, in: scratch.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Removed credentials"), "\(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: scratch.home + "/access.key"))
        if broken == .settings {
            // The machine id is gone; the key other tools own stays.
            let settings = try String(contentsOfFile: scratch.home + "/settings.json", encoding: .utf8)
            #expect(!settings.contains("machineId") && settings.contains("\"serverUrl\": \"ftp://x\""), "\(settings)")
        }
    }

    @Test(arguments: Where.allCases)
    func statusStillAnswers(broken: Where) async throws {
        let scratch = try Scratch()
        let env = try loggedInHome(scratch, broken: broken)
        for args in [["auth", "status"], ["auth", "status", "--json"]] {
            let r = try await Spawned.run(Binaries.happy, args, environment: env, in: scratch.path)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(r.stdout.contains("ftp://x"), "\(args): \(r.stdout)")
        }
    }

    @Test(arguments: Where.allCases)
    func loginAndApproveStillRefuseIt(broken: Where) async throws {
        let scratch = try Scratch()
        let env = try loggedInHome(scratch, broken: broken)
        let before = try Data(contentsOf: URL(fileURLWithPath: scratch.home + "/access.key"))
        let terminal = "happy://terminal?" + String(repeating: "A", count: 43)
        for args in [["auth", "login", "--force"], ["auth", "approve", terminal]] {
            let r = try await Spawned.run(Binaries.happy, args, environment: env, in: scratch.path)
            #expect(r.status == 64, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("must be an http:// or https:// URL"), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.home + "/access.key")) == before)
    }
}
