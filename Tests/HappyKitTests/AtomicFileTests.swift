import Dispatch
import Foundation
import Testing

@testable import HappyKit

/// Atomic private writes, the home directory (resolution, mode 0700), its lock, and the daemon state file.
@Suite struct AtomicFileTests {
    let sandbox = Sandbox()

    struct Crash: Error {}

    @Test(arguments: [AtomicFile.Step.written, .synced])
    func aFailureBeforeRenameLeavesTheOldFileAndNoTemporaryFile(step: AtomicFile.Step) throws {
        let path = sandbox.root + "/access.key"
        try sandbox.write("old contents", to: path)
        #expect(throws: Crash.self) {
            try AtomicFile.write(Array("new contents".utf8), to: path) { if $0 == step { throw Crash() } }
        }
        #expect(sandbox.read(path) == "old contents")
        #expect(sandbox.listing(sandbox.root) == ["access.key"])
    }

    @Test func aFailureAfterRenameLeavesTheNewFileComplete() throws {
        let path = sandbox.root + "/settings.json"
        try sandbox.write("old", to: path)
        #expect(throws: Crash.self) {
            try AtomicFile.write(Array("new".utf8), to: path) { if $0 == .renamed { throw Crash() } }
        }
        #expect(sandbox.read(path) == "new")
        #expect(sandbox.listing(sandbox.root) == ["settings.json"])
    }

    @Test func goesThroughEveryStepInOrder() throws {
        let steps = Locked([AtomicFile.Step]())
        try AtomicFile.write([1, 2, 3], to: sandbox.root + "/f") { step in steps.withLock { $0.append(step) } }
        #expect(steps.current == [.written, .synced, .renamed])
    }

    @Test func writesMode0600EvenOverAWiderFile() throws {
        let path = sandbox.root + "/access.key"
        try sandbox.write("old", to: path, mode: 0o644)
        try AtomicFile.write(Array("secret".utf8), to: path)
        #expect(sandbox.mode(of: path) == 0o600)
        #expect(sandbox.read(path) == "secret")
    }

    @Test func writesLargeAndEmptyFiles() throws {
        let big = [UInt8](repeating: 0x61, count: 300_000)
        try AtomicFile.write(big, to: sandbox.root + "/big")
        #expect(FileManager.default.contents(atPath: sandbox.root + "/big").map { [UInt8]($0) } == big)
        try AtomicFile.write([], to: sandbox.root + "/empty")
        #expect(sandbox.read(sandbox.root + "/empty") == "")
    }

    @Test func reportsAMissingDirectoryAsAFileProblem() {
        let error = #expect(throws: HappyError.self) { try AtomicFile.write([1], to: sandbox.root + "/missing/file") }
        guard case .fileProblem(let path, _)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path == sandbox.root + "/missing/file")
    }

    // MARK: HappyHome

    /// A home happy makes is 0700; one it finds is left as it is (never chmod-ed) and warned about instead.
    @Test func createsTheHomeWithMode0700AndNeverChangesAnExistingOne() throws {
        let home = sandbox.home
        #expect(try home.ensureExists())
        #expect(sandbox.mode(of: home.path) == 0o700)
        #expect(home.permissionWarnings().isEmpty)
        chmod(home.path, 0o755)
        #expect(try !home.ensureExists())
        #expect(sandbox.mode(of: home.path) == 0o755)
        #expect(home.permissionWarnings().first?.contains("accessible by group or others (mode 755)") == true)
    }

    @Test func refusesAHomeThatIsAFile() throws {
        try sandbox.write("x", to: sandbox.home.path)
        #expect(throws: HappyError.self) { try sandbox.home.ensureExists() }
    }

    @Test(
        arguments: [
            ([:], "/u/me/.happy"), (["HAPPY_HOME_DIR": ""], "/u/me/.happy"), (["HAPPY_HOME_DIR": "~"], "/u/me"),
            (["HAPPY_HOME_DIR": "~/dev/.happy"], "/u/me/dev/.happy"), (["HAPPY_HOME_DIR": "/srv/happy"], "/srv/happy"),
            (["HAPPY_HOME_DIR": "~other/x"], "~other/x"),
        ] as [([String: String], String)])
    func resolvesTheHomeFromTheEnvironment(environment: [String: String], expected: String) {
        #expect(HappyHome.resolve(environment: environment, userHome: "/u/me").path == expected)
    }

    @Test func removesTheHomeOnlyWhenEmpty() throws {
        let home = sandbox.home
        try home.ensureExists()
        try sandbox.write("x", to: home.path + "/daemon.log")
        #expect(!home.removeIfEmpty())
        #expect(try home.remove(home.path + "/daemon.log"))
        #expect(try home.remove(home.path + "/daemon.log") == false)
        #expect(home.removeIfEmpty())
        #expect(!sandbox.exists(home.path))
    }

    // MARK: HomeLock

    @Test func aHeldLockExcludesAnotherOpenFileDescription() throws {
        let home = sandbox.home
        do {
            let lock = try HomeLock(home: home)
            #expect(tryLock(home.path) == false)
            withExtendedLifetime(lock) {}
        }
        #expect(tryLock(home.path) == true)  // released with the lock
    }

    @Test func aSecondLockWaitsUntilTheFirstIsReleased() throws {
        let home = sandbox.home
        let waiting = DispatchSemaphore(value: 0)
        let acquired = DispatchSemaphore(value: 0)
        let second = Locked<HomeLock?>(nil)
        do {
            let first = try HomeLock(home: home)
            Thread.detachNewThread {
                // The thread's own reference ends before it signals, so only `second` keeps the lock alive.
                do {
                    let lock = try? HomeLock(home: home, onWait: { waiting.signal() })
                    second.withLock { $0 = lock }
                }
                acquired.signal()
            }
            #expect(waiting.wait(timeout: .now() + 10) == .success)
            #expect(acquired.wait(timeout: .now() + 0.3) == .timedOut)  // still blocked while the first is held
            withExtendedLifetime(first) {}
        }
        #expect(acquired.wait(timeout: .now() + 10) == .success)
        #expect(second.current != nil)
        #expect(tryLock(home.path) == false)
        second.withLock { $0 = nil }
        #expect(tryLock(home.path) == true)
    }

    /// `flock(LOCK_EX | LOCK_NB)` on a fresh descriptor of `path`; releases it at once.
    private func tryLock(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) == 0
    }

    // MARK: DaemonState

    @Test(
        arguments: [
            (
                #"{"pid": 123, "httpPort": 5555, "startTime": "t", "startedWithCliVersion": "0.10.0"}"#,
                DaemonState(pid: 123, httpPort: 5555, startTime: "t", startedWithCliVersion: "0.10.0")
            ),
            (
                #"{"pid": 7, "httpPort": 80}"#,
                DaemonState(pid: 7, httpPort: 80, startTime: nil, startedWithCliVersion: nil)
            ),
            (#"{"pid": 0, "httpPort": 80}"#, nil), (#"{"pid": -1, "httpPort": 80}"#, nil), (#"{"httpPort": 80}"#, nil),
            (#"{"pid": 7}"#, nil), (#"{"pid": "7", "httpPort": 80}"#, nil), ("garbage", nil),
        ] as [(String, DaemonState?)])
    func readsTheDaemonState(text: String, expected: DaemonState?) throws {
        try sandbox.write(text, to: sandbox.home.daemonStatePath)
        #expect(DaemonState.read(from: sandbox.home).state == expected)
    }

    @Test func readsNoDaemonStateWithoutAFile() {
        #expect(DaemonState.read(from: sandbox.home) == .none)
    }
}
