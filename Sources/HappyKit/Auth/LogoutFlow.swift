import FoundationEssentials
import Glibc

/// `happy auth logout` and the clearing half of `login --force`: stops a running daemon (POST /stop, wait for the
/// pid, then SIGTERM/SIGKILL), removes credentials and the machine id, and removes the home only if it is empty.
/// Never deletes files it does not own.
public struct LogoutFlow: Sendable {
    let context: HappyContext

    /// Logout never talks to the Happy server, so it needs no server: a broken `serverUrl` or `HAPPY_SERVER_URL`
    /// cannot stop it.
    public init(context: HappyContext) {
        self.context = context
    }

    /// Asks y/N (unless `assumeYes`), then logs out. Returns normally when there was nothing to do. `beforeClearing`
    /// runs once the daemon is stopped and before any file is removed (`--deregister`).
    public func run(assumeYes: Bool, beforeClearing: (@Sendable () async throws -> Void)? = nil) async throws {
        let console = context.console
        let hasKey = access(context.home.accessKeyPath, F_OK) == 0
        let settings = try? Settings.load(from: context.home)
        guard hasKey || settings?.machineId != nil || DaemonState.read(from: context.home) != .none else {
            console.out("Not logged in; nothing to remove.")
            return
        }
        if !assumeYes {
            guard console.canPrompt else {
                throw HappyError.usage("logout needs confirmation; run it in a terminal or pass --yes")
            }
            console.err("This will log this machine out of Happy (\(context.home.path)).")
            console.err("\(console.warnMark) You will need to approve it again from your phone or the web app.")
            console.errRaw("Are you sure you want to log out? (y/N): ")
            let answer = await console.readLine()?.trimmingWhitespace().lowercased()
            guard answer == "y" || answer == "yes" else {
                console.err("Logout cancelled; nothing was changed.")
                return
            }
        }
        let stopped = try await stopDaemon()
        try await beforeClearing?()
        let removed = try CredentialsStore(home: context.home).clear(onSettingsWait: {
            console.err(CredentialsStore.settingsWaitMessage($0))
        })
        let removedHome = context.home.removeIfEmpty()
        if stopped { console.out("\(console.checkMark) Stopped the happy daemon") }
        if removed.removedCredentials { console.out("\(console.checkMark) Removed credentials") }
        if removed.removedMachineId { console.out("\(console.checkMark) Removed machine ID") }
        console.out(
            removedHome
                ? "\(console.checkMark) Removed \(context.home.path) (it was empty)"
                : "Kept \(context.home.path): other files remain in it")
        console.out("Logged out.")
    }

    /// `login --force`: stop the daemon and clear credentials and machine id, without asking.
    func clearForRelogin() async throws {
        if try await stopDaemon() { context.console.err("Stopped the happy daemon.") }
        let store = CredentialsStore(home: context.home)
        if try store.setAsideCorruptSettings() {
            context.console.warn(
                "settings.json was not valid JSON; kept it as settings.json.corrupt and starting a fresh one.")
        }
        let removed = try store.clear(onSettingsWait: { context.console.err(CredentialsStore.settingsWaitMessage($0)) })
        if removed.removedCredentials || removed.removedMachineId {
            context.console.err("Cleared the old credentials and machine ID.")
        }
    }

    /// Stops the home's running daemon; returns whether it stopped one. Only a pid proven to be that daemon is asked
    /// or signalled (PROTOCOL §3): a stale, foreign or unreadable state is reported and left alone. A state file
    /// whose pid is gone describes a daemon that no longer exists and is removed.
    func stopDaemon() async throws -> Bool {
        let home = context.home
        let state: DaemonState
        switch DaemonState.read(from: home) {
        case .none: return false
        case .invalid(let why):
            context.console.warn("\(why); no daemon was stopped or signalled.")
            return false
        case .valid(let valid): state = valid
        }
        let processes = context.processes
        guard processes.isAlive(state.pid) else { return try forget(state, stopped: false) }
        let proof = processes.proveDaemon(state.pid, home)
        guard proof.isProven else {
            context.console.warn("daemon.state.json names \(proof.reason); it was not stopped or signalled.")
            return false
        }
        let asked = await askToStop(port: state.httpPort)
        if try await waitForExit(state.pid, seconds: asked ? 5 : 0) { return try forget(state, stopped: true) }
        for (signal, seconds) in [(SIGTERM, 3), (SIGKILL, 2)] {
            guard processes.isAlive(state.pid) else { return try forget(state, stopped: true) }
            // Pids are reused: prove it again right before each signal.
            let again = processes.proveDaemon(state.pid, home)
            guard again.isProven else {
                context.console.warn("daemon.state.json names \(again.reason) now; it was not signalled.")
                return false
            }
            _ = processes.signal(state.pid, signal)
            if try await waitForExit(state.pid, seconds: seconds) { return try forget(state, stopped: true) }
        }
        throw HappyError.internalFailure("the happy daemon (pid \(state.pid)) did not stop; stop it by hand and retry")
    }

    /// `POST http://127.0.0.1:<port>/stop`, never through a proxy, bounded to 3 s for the whole exchange so a local
    /// server that trickles cannot hold logout. Returns whether it answered 2xx.
    private func askToStop(port: UInt16) async -> Bool {
        guard let transport = try? context.makeTransport(TransportOptions(useProxy: false)) else { return false }
        let request = HTTPRequest(
            method: "POST", url: "http://127.0.0.1:\(port)/stop",
            headers: ["Content-Type": "application/json", "X-Happy-Client": HappyVersion.clientHeader],
            body: Array("{}".utf8), timeout: .seconds(3))
        let answered = (try? await transport.send(request)).map { (200..<300).contains($0.status) } ?? false
        await transport.shutdown()
        return answered
    }

    /// The daemon has exited: the state file (and a lock naming its pid) it left behind are stale now and would keep
    /// the home from being removed.
    private func forget(_ state: DaemonState, stopped: Bool) throws -> Bool {
        let home = context.home
        if DaemonState.read(from: home).state?.pid == state.pid { try home.remove(home.daemonStatePath) }
        let lockPath = home.daemonStatePath + ".lock"
        if ProcDaemonInspector.pidNamed(byLock: lockPath) == state.pid { try home.remove(lockPath) }
        return stopped
    }

    private func waitForExit(_ pid: Int32, seconds: Int) async throws -> Bool {
        let deadline = context.timing.elapsed() + .seconds(seconds)
        while context.processes.isAlive(pid) {
            if context.timing.elapsed() >= deadline { return false }
            try await context.timing.sleep(.milliseconds(100))
        }
        return true
    }
}
