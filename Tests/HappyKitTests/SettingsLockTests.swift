import Foundation
import Testing

@testable import HappyKit

/// `settings.json.lock` (PROTOCOL §3) on a virtual clock: the TypeScript CLI's rules (100 ms retries for 5 s, stale
/// after 10 s, an empty lock is waited for) and ours (a dead pid is stale), and what `CredentialsStore` does with it.
/// The real-process versions of these cases are in IntegrationTests/SettingsEndToEndTests.
@Suite struct SettingsLockTests {
    let sandbox = Sandbox()
    var lockPath: String { sandbox.home.settingsPath + ".lock" }

    /// A virtual clock that starts at the real time (the lock's mtime is real) and advances only when slept on;
    /// `onSleep` runs at each sleep with its number (1, 2, …), as another process would act meanwhile.
    final class Clock: @unchecked Sendable {  // all state behind `Locked`
        let start = Date()
        let sleeps = Locked(0)
        let alive: Set<Int32>
        let onSleep: @Sendable (Int) -> Void

        init(alive: Set<Int32> = [], onSleep: @escaping @Sendable (Int) -> Void = { _ in }) {
            self.alive = alive
            self.onSleep = onSleep
        }

        var environment: SettingsLock.Environment {
            SettingsLock.Environment(
                now: { [self] in start.addingTimeInterval(Double(sleeps.current) * 0.1) },
                sleep: { [self] duration in
                    #expect(duration == .milliseconds(100))
                    let n = sleeps.withLock {
                        $0 += 1; return $0
                    }
                    onSleep(n)
                },
                isAlive: { [alive] in alive.contains($0) }, pid: 777,
                elapsed: { [self] in .milliseconds(100 * sleeps.current) })
        }
    }

    func makeLock(_ text: String, age: TimeInterval = 0) throws {
        try sandbox.write(text, to: lockPath)
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: lockPath)
    }

    @Test func takesAFreeLockWithOurPidAndRemovesItOnRelease() throws {
        try FileManager.default.createDirectory(atPath: sandbox.home.path, withIntermediateDirectories: true)
        let clock = Clock()
        let lock = try SettingsLock(home: sandbox.home, environment: clock.environment) { _ in Issue.record("no wait") }
        #expect(sandbox.read(lockPath) == "777")
        #expect(clock.sleeps.current == 0)
        lock.release()
        #expect(!sandbox.exists(lockPath))
    }

    /// Held past 10 s, our lock may be judged stale and taken by another writer: releasing then leaves theirs.
    @Test func releaseLeavesALockThatIsNoLongerOurs() throws {
        try FileManager.default.createDirectory(atPath: sandbox.home.path, withIntermediateDirectories: true)
        let lock = try SettingsLock(home: sandbox.home, environment: Clock().environment)
        unlink(lockPath)
        try makeLock("")  // the TypeScript CLI's, made after it removed ours
        lock.release()
        #expect(sandbox.read(lockPath) == "")
    }

    @Test(arguments: ["", "4242\n"])
    func waitsFiveSecondsForAYoungLockThenGivesUpLeavingIt(content: String) throws {
        try makeLock(content)
        let clock = Clock(alive: [4242])
        let waits = Locked([String]())
        let error = #expect(throws: HappyError.self) {
            try SettingsLock(home: sandbox.home, environment: clock.environment) { holder in
                waits.withLock { $0.append(holder) }
            }
        }
        #expect(clock.sleeps.current == 50, "50 retries, 100 ms apart")
        #expect(sandbox.read(lockPath) == content, "a live holder's lock is never deleted")
        #expect(waits.current.count == 1)
        #expect(waits.current.first?.contains(content.isEmpty ? "TypeScript happy CLI" : "pid 4242") == true)
        #expect(error?.exitStatus == .failure)
        #expect(error?.userMessage.contains("not released within 5 s, so nothing was changed") == true)
    }

    @Test(arguments: ["", "4242"])
    func removesALockOlderThanTenSeconds(content: String) throws {
        try makeLock(content, age: 11)
        let clock = Clock(alive: [4242])
        let lock = try SettingsLock(home: sandbox.home, environment: clock.environment)
        #expect(clock.sleeps.current == 1)
        #expect(sandbox.read(lockPath) == "777")
        lock.release()
    }

    @Test func aNineSecondOldLockIsWaitedForUntilItTurnsTen() throws {
        try makeLock("", age: 9)
        let clock = Clock()
        _ = try SettingsLock(home: sandbox.home, environment: clock.environment)
        #expect(clock.sleeps.current > 5 && clock.sleeps.current < 15, "stale only past 10 s: \(clock.sleeps.current)")
    }

    @Test(arguments: ["4242", "777"])
    func removesOurStyleLockWhosePidIsNotRunning(content: String) throws {
        try makeLock(content)  // 4242 is dead here; 777 is our own pid, which cannot be holding it
        let clock = Clock()
        let lock = try SettingsLock(home: sandbox.home, environment: clock.environment)
        #expect(clock.sleeps.current == 1)
        #expect(sandbox.read(lockPath) == "777")
        lock.release()
    }

    @Test(arguments: ["99999999999", "-5", "0", "abc"])
    func aLockWithoutAUsablePidIsTreatedAsTheTypeScriptCLIs(content: String) throws {
        try makeLock(content)
        let clock = Clock()
        #expect(throws: HappyError.self) { try SettingsLock(home: sandbox.home, environment: clock.environment) }
        #expect(sandbox.read(lockPath) == content)
    }

    /// The holder's pid is read like every other file: a lock of 2 MiB or a FIFO is not read (and never waited on).
    @Test func aHugeOrStrangeLockIsNeverReadWhole() throws {
        try FileManager.default.createDirectory(atPath: sandbox.home.path, withIntermediateDirectories: true)
        try sandbox.write(String(repeating: "7", count: 2 << 20), to: lockPath)
        #expect(SettingsLock.pid(in: lockPath) == nil)
        unlink(lockPath)
        #expect(mkfifo(lockPath, 0o600) == 0)
        #expect(SettingsLock.pid(in: lockPath) == nil)
    }

    /// The 5 s are a deadline: sleeps that overrun (a loaded machine) mean fewer tries, not a longer wait.
    @Test func theWaitIsADeadlineNotARetryCount() throws {
        try makeLock("")
        let sleeps = Locked(0)
        let environment = SettingsLock.Environment(
            now: { Date() }, sleep: { _ in sleeps.withLock { $0 += 1 } }, isAlive: { _ in true }, pid: 777,
            elapsed: { .seconds(sleeps.current) })  // each 100 ms sleep takes a whole second
        #expect(throws: HappyError.self) { try SettingsLock(home: sandbox.home, environment: environment) }
        #expect(sleeps.current == 5)
    }

    @Test func takesTheLockOnceTheHolderRemovesIt() throws {
        try makeLock("")
        let path = lockPath
        let clock = Clock { n in if n == 3 { unlink(path) } }
        _ = try SettingsLock(home: sandbox.home, environment: clock.environment)
        #expect(clock.sleeps.current == 3)
    }

    // MARK: CredentialsStore under the lock

    func store(_ clock: Clock, _ key: AccessKey = .keyless(token: "t", metadata: nil)) throws -> String {
        var store = CredentialsStore(home: sandbox.home)
        store.settingsLockEnvironment = clock.environment
        return try store.store(key) { "fresh-id" }
    }

    /// PROTOCOL §3: exactly `JSON.stringify({schemaVersion: 2, onboardingCompleted: false, machineId}, null, 2)`.
    @Test func aFreshSettingsFileIsTheOneTheTypeScriptCLIWouldWrite() throws {
        #expect(try store(Clock()) == "fresh-id")
        #expect(
            sandbox.read(sandbox.home.settingsPath)
                == "{\n  \"schemaVersion\": 2,\n  \"onboardingCompleted\": false,\n  \"machineId\": \"fresh-id\"\n}")
        #expect(sandbox.listing(sandbox.home.path) == ["access.key", "settings.json"], "the lock is gone")
    }

    @Test func aLockNeverReleasedMeansNothingIsWritten() throws {
        try makeLock("")
        try sandbox.write("{\n  \"theme\": \"dark\"\n}", to: sandbox.home.settingsPath)
        #expect(throws: HappyError.self) { try store(Clock()) }
        #expect(!sandbox.exists(sandbox.home.accessKeyPath))
        #expect(sandbox.read(sandbox.home.settingsPath) == "{\n  \"theme\": \"dark\"\n}")
        #expect(sandbox.read(lockPath) == "")
    }

    /// The holder's own update, made under its lock, is read after the lock is ours, so it survives.
    @Test func theHoldersChangeIsKept() throws {
        try makeLock("")
        let home = sandbox.home, path = lockPath
        let clock = Clock { n in
            guard n == 2 else { return }
            try? Data("{\n  \"serverUrl\": \"https://self.example\"\n}".utf8).write(
                to: URL(fileURLWithPath: home.settingsPath))
            unlink(path)
        }
        _ = try store(clock)
        #expect(
            sandbox.read(sandbox.home.settingsPath)
                == "{\n  \"serverUrl\": \"https://self.example\",\n  \"machineId\": \"fresh-id\"\n}")
    }

    @Test func clearWaitsForTheLockAndRemovesOnlyWhatItOwns() throws {
        try sandbox.write(
            "{\n  \"schemaVersion\": 2,\n  \"onboardingCompleted\": false,\n  \"machineId\": \"m\"\n}",
            to: sandbox.home.settingsPath)
        try sandbox.write(AccessKeyTests.legacyFixture, to: sandbox.home.accessKeyPath)
        try makeLock("")
        var store = CredentialsStore(home: sandbox.home)
        store.settingsLockEnvironment = Clock().environment
        #expect(throws: HappyError.self) { try store.clear() }
        #expect(sandbox.exists(sandbox.home.accessKeyPath), "nothing removed while the lock is held")

        unlink(lockPath)
        let removed = try store.clear()
        #expect(removed.removedCredentials && removed.removedMachineId)
        #expect(sandbox.listing(sandbox.home.path) == [], "a file holding only what we created is removed")
    }
}
