import Foundation

/// `happy auth logout` and the clearing half of `login --force`: stops a running daemon (POST /stop, wait for the
/// pid, then SIGTERM/SIGKILL), removes credentials and the machine id, and removes the home only if it is empty.
/// Never deletes files it does not own.
public struct LogoutFlow: Sendable {
    let context: HappyContext
    let server: String

    public init(context: HappyContext, server: String) {
        self.context = context
        self.server = server
    }

    /// Asks y/N (unless `assumeYes`), then logs out. Returns normally when there was nothing to do.
    public func run(assumeYes: Bool) async throws {
        let console = context.console
        let hasKey = FileManager.default.fileExists(atPath: context.home.accessKeyPath)
        let settings = try? Settings.load(from: context.home)
        guard hasKey || settings?.machineId != nil || DaemonState.load(from: context.home) != nil else {
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
            let answer = await console.readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
            guard answer == "y" || answer == "yes" else {
                console.err("Logout cancelled; nothing was changed.")
                return
            }
        }
        let stopped = try await stopDaemon()
        let removed = try CredentialsStore(home: context.home).clear(onSettingsWait: {
            console.err(CredentialsStore.settingsWaitMessage($0))
        })
        let removedHome = context.home.removeIfEmpty()
        if stopped { console.out("\(console.checkMark) Stopped the happy daemon") }
        if removed.removedCredentials { console.out("\(console.checkMark) Removed credentials") }
        if removed.removedMachineId { console.out("\(console.checkMark) Removed machine ID") }
        console.out(removedHome ? "\(console.checkMark) Removed \(context.home.path) (it was empty)"
                                : "Kept \(context.home.path): other files remain in it")
        console.out("Logged out.")
    }

    /// `login --force`: stop the daemon and clear credentials and machine id, without asking.
    func clearForRelogin() async throws {
        if try await stopDaemon() { context.console.err("Stopped the happy daemon.") }
        let store = CredentialsStore(home: context.home)
        if try store.setAsideCorruptSettings() {
            context.console.warn("settings.json was not valid JSON; kept it as settings.json.corrupt and starting a fresh one.")
        }
        let removed = try store.clear(onSettingsWait: { context.console.err(CredentialsStore.settingsWaitMessage($0)) })
        if removed.removedCredentials || removed.removedMachineId {
            context.console.err("Cleared the old credentials and machine ID.")
        }
    }

    /// Stops a running daemon; returns whether one was running. A stale state file (dead pid) is removed, since
    /// it describes a daemon of this home that no longer exists.
    func stopDaemon() async throws -> Bool {
        guard let state = DaemonState.load(from: context.home) else { return false }
        let processes = context.processes
        guard processes.isAlive(state.pid) else {
            try context.home.remove(context.home.daemonStatePath)
            return false
        }
        // Ask politely first.
        var asked = false
        if let transport = try? context.makeTransport(TransportOptions(useProxy: false)) {
            let request = HTTPRequest(method: "POST", url: "http://127.0.0.1:\(state.httpPort)/stop",
                                      headers: ["Content-Type": "application/json", "X-Happy-Client": HappyVersion.clientHeader],
                                      body: Array("{}".utf8), timeout: .seconds(3))
            asked = (try? await transport.send(request)).map { (200..<300).contains($0.status) } ?? false
            await transport.shutdown()
        }
        if try await waitForExit(state.pid, seconds: asked ? 5 : 0) { return try forget(state) }
        // Only signal a pid that still looks like a happy process: pids are reused.
        let commandLine = processes.commandLine(state.pid) ?? ""
        guard commandLine.contains("happy") || asked else {
            context.console.warn("daemon.state.json names pid \(state.pid), which is not a happy process; not signalling it.")
            return false
        }
        _ = processes.signal(state.pid, SIGTERM)
        if try await waitForExit(state.pid, seconds: 3) { return try forget(state) }
        _ = processes.signal(state.pid, SIGKILL)
        if try await waitForExit(state.pid, seconds: 2) { return try forget(state) }
        throw HappyError.internalFailure("the happy daemon (pid \(state.pid)) did not stop; stop it by hand and retry")
    }

    /// The daemon has exited; a state file it left behind (killed, or slow to clean up) is stale now and would keep
    /// the home from being removed.
    private func forget(_ state: DaemonState) throws -> Bool {
        if DaemonState.load(from: context.home)?.pid == state.pid { try context.home.remove(context.home.daemonStatePath) }
        return true
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
