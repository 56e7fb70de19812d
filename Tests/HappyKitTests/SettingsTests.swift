import Foundation
import Testing

@testable import HappyKit

/// `settings.json` is shared with the TypeScript CLI: we own `machineId` and keep every other key, in order, byte for
/// byte. Also `CredentialsStore`, which writes and clears the login state.
@Suite struct SettingsTests {
    let sandbox = Sandbox()

    /// `JSON.stringify(JSON.parse('{"schemaVersion": 2, "onboardingCompleted": true, "profiles": [{"id": "a",
    /// "env": {"X": "1"}}], "machineId": "…", "weird": [1.50, -0e3, "\u00e9\n"]}'), null, 2)`, printed by node.
    static let fixture = """
        {
          "schemaVersion": 2,
          "onboardingCompleted": true,
          "profiles": [
            {
              "id": "a",
              "env": {
                "X": "1"
              }
            }
          ],
          "machineId": "4F5C2A1E-0000-4000-8000-000000000001",
          "weird": [
            1.5,
            0,
            "é\\n"
          ]
        }
        """

    @Test func keepsUnknownKeysAndOrderWhenMachineIdChanges() throws {
        try sandbox.write(Self.fixture, to: sandbox.home.settingsPath)
        var settings = try Settings.load(from: sandbox.home)
        #expect(settings.machineId == "4F5C2A1E-0000-4000-8000-000000000001")
        #expect(String(decoding: settings.serialized(), as: UTF8.self) == Self.fixture)

        settings.machineId = "new-id"
        try settings.store(in: sandbox.home)
        let expected = Self.fixture.replacingOccurrences(of: "4F5C2A1E-0000-4000-8000-000000000001", with: "new-id")
        #expect(sandbox.read(sandbox.home.settingsPath) == expected)
        #expect(sandbox.mode(of: sandbox.home.settingsPath) == 0o600)
    }

    @Test func keepsNumberSpellingsItDidNotWrite() throws {
        // Hand-edited: JSON.stringify would print 1.5 and 0, but the values are not ours to rewrite.
        try sandbox.write(
            #"{"weird": [1.50, -0e3, 1E+2, "\u00e9\n"], "machineId": "a"}"#, to: sandbox.home.settingsPath)
        var settings = try Settings.load(from: sandbox.home)
        settings.machineId = "b"
        #expect(
            String(decoding: settings.serialized(), as: UTF8.self) == """
                {
                  "weird": [
                    1.50,
                    -0e3,
                    1E+2,
                    "é\\n"
                  ],
                  "machineId": "b"
                }
                """)
    }

    @Test func addsMachineIdLast() throws {
        try sandbox.write("{\n  \"schemaVersion\": 2\n}", to: sandbox.home.settingsPath)
        var settings = try Settings.load(from: sandbox.home)
        #expect(settings.machineId == nil)
        settings.machineId = "m"
        #expect(
            String(decoding: settings.serialized(), as: UTF8.self)
                == "{\n  \"schemaVersion\": 2,\n  \"machineId\": \"m\"\n}")
    }

    @Test func absentFileIsTheTypeScriptDefaults() throws {
        #expect(try Settings.load(from: sandbox.home) == Settings.typeScriptDefaults)
        #expect(!sandbox.exists(sandbox.home.path))
    }

    @Test(arguments: ["{", "[]", "\"x\"", "{\"a\": 1,}"])
    func reportsACorruptFile(text: String) throws {
        try sandbox.write(text, to: sandbox.home.settingsPath)
        let error = #expect(throws: HappyError.self) { try Settings.load(from: sandbox.home) }
        guard case .fileProblem(let path, _)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path == sandbox.home.settingsPath)
    }

    // MARK: CredentialsStore

    @Test func storeKeepsAnExistingMachineIdAndOtherKeys() throws {
        try sandbox.write(Self.fixture, to: sandbox.home.settingsPath)
        let key = AccessKey.keyless(token: "t", metadata: nil)
        let id = try CredentialsStore(home: sandbox.home).store(key) { "must-not-be-used" }
        #expect(id == "4F5C2A1E-0000-4000-8000-000000000001")
        #expect(sandbox.read(sandbox.home.settingsPath) == Self.fixture)
        #expect(sandbox.read(sandbox.home.accessKeyPath) == "{\n  \"token\": \"t\"\n}")
    }

    @Test func storeAddsAMachineIdWhenThereIsNone() throws {
        try sandbox.write("{\n  \"theme\": \"dark\"\n}", to: sandbox.home.settingsPath)
        let id = try CredentialsStore(home: sandbox.home).store(.keyless(token: "t", metadata: nil)) { "fresh-id" }
        #expect(id == "fresh-id")
        #expect(
            sandbox.read(sandbox.home.settingsPath) == "{\n  \"theme\": \"dark\",\n  \"machineId\": \"fresh-id\"\n}")
    }

    @Test func storeMakesLowercaseUUIDsByDefault() throws {
        let id = try CredentialsStore(home: sandbox.home).store(.keyless(token: "t", metadata: nil))
        #expect(UUID(uuidString: id) != nil)
        #expect(id == id.lowercased())
    }

    @Test func storeWritesNothingWhenSettingsAreCorrupt() throws {
        try sandbox.write("{oops", to: sandbox.home.settingsPath)
        #expect(throws: HappyError.self) {
            try CredentialsStore(home: sandbox.home).store(.keyless(token: "t", metadata: nil))
        }
        #expect(!sandbox.exists(sandbox.home.accessKeyPath))
        #expect(sandbox.read(sandbox.home.settingsPath) == "{oops")
    }

    @Test func clearKeepsOtherSettingsKeys() throws {
        try sandbox.write(Self.fixture, to: sandbox.home.settingsPath)
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        let removed = try CredentialsStore(home: sandbox.home).clear()
        #expect(removed.removedCredentials && removed.removedMachineId)
        #expect(!sandbox.exists(sandbox.home.accessKeyPath))
        #expect(
            sandbox.read(sandbox.home.settingsPath) == """
                {
                  "schemaVersion": 2,
                  "onboardingCompleted": true,
                  "profiles": [
                    {
                      "id": "a",
                      "env": {
                        "X": "1"
                      }
                    }
                  ],
                  "weird": [
                    1.5,
                    0,
                    "é\\n"
                  ]
                }
                """)
    }

    @Test func clearRemovesSettingsHoldingOnlyTheMachineId() throws {
        try sandbox.write("{\n  \"machineId\": \"m\"\n}", to: sandbox.home.settingsPath)
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        let removed = try CredentialsStore(home: sandbox.home).clear()
        #expect(removed.removedCredentials && removed.removedMachineId)
        #expect(sandbox.listing(sandbox.home.path) == [])
    }

    @Test func clearOfAMissingHomeCreatesNothing() throws {
        let removed = try CredentialsStore(home: sandbox.home).clear()
        #expect(!removed.removedCredentials && !removed.removedMachineId)
        #expect(!sandbox.exists(sandbox.home.path))
    }

    @Test func clearLeavesACorruptSettingsFileAlone() throws {
        try sandbox.write("{oops", to: sandbox.home.settingsPath)
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        let removed = try CredentialsStore(home: sandbox.home).clear()
        #expect(removed.removedCredentials && !removed.removedMachineId)
        #expect(sandbox.read(sandbox.home.settingsPath) == "{oops")
    }
}
