import FoundationEssentials
import Glibc

/// Reading and writing the login state of a home: `access.key` plus `machineId` in `settings.json`, under the
/// home lock so two concurrent logins cannot interleave.
public struct CredentialsStore: Sendable {
    public let home: HappyHome
    /// The clock and liveness check of the TypeScript CLI's settings lock; tests replace it.
    var settingsLockEnvironment = SettingsLock.Environment.live

    public init(home: HappyHome) { self.home = home }

    /// Stores `accessKey` and makes sure a machine id exists (keeping one the TypeScript CLI made). Returns the id.
    /// Settings are read before anything is written, so a corrupt `settings.json` leaves every file untouched; both
    /// locks (ours, then the TypeScript CLI's `settings.json.lock`) are held before that read, so a change the other
    /// CLI makes under its lock is kept and a lock that is never released leaves every file untouched too. Both files
    /// are written and fsynced before either replaces its target (a full disk fails with neither changed), and
    /// `signals` holds off a signal-driven exit until both are in place: a login is stored whole or not at all.
    @discardableResult
    public func store(
        _ accessKey: AccessKey, newMachineId: () -> String = { UUID().uuidString.lowercased() },
        onWait: () -> Void = {}, onSettingsWait: (String) -> Void = { _ in }, signals: SignalGuard = .none
    ) throws -> String {
        let lock = try HomeLock(home: home, onWait: onWait)
        defer { withExtendedLifetime(lock) {} }
        let settingsLock = try SettingsLock(home: home, environment: settingsLockEnvironment, onWait: onSettingsWait)
        defer { settingsLock.release() }
        home.removeStaleTemporaryFiles()
        var settings = try Settings.load(from: home)
        let machineId = settings.machineId ?? newMachineId()
        let writeSettings = settings.machineId == nil
        settings.machineId = machineId
        let keyBytes = try accessKey.serialized()  // locked memory, written to the file without a copy
        let settingsBytes = settings.serialized()
        try signals.holding {
            // Interrupted before this point: nothing is written, the run ends as interrupted.
            try Task.checkCancellation()
            let key = try AtomicFile.prepare(keyBytes, for: home.accessKeyPath)
            let settingsFile = writeSettings ? try AtomicFile.prepare(settingsBytes, for: home.settingsPath) : nil
            // The machine id first: stopped between the two renames, the home is "not logged in, with a machine id",
            // the state the TypeScript CLI itself starts from — never "logged in without a machine id".
            try settingsFile?.commit()
            try key.commit()
        }
        return machineId
    }

    /// `store`, telling the user on stderr when another happy process holds the home's lock.
    func store(_ accessKey: AccessKey, console: Console, signals: SignalGuard) throws -> String {
        try store(
            accessKey,
            onWait: { console.err("Another happy process is writing to \(home.path); waiting for it to finish.") },
            onSettingsWait: { console.err(Self.settingsWaitMessage($0)) }, signals: signals)
    }

    static func settingsWaitMessage(_ holder: String) -> String {
        holder.prefix(1).uppercased() + holder.dropFirst()
            + " is updating settings.json (settings.json.lock); waiting up to 5 s."
    }

    /// `login --force` on a `settings.json` that is not valid JSON: keeps its bytes as `settings.json.corrupt`
    /// (nothing is lost) and lets the login write a fresh one. Returns whether it did.
    func setAsideCorruptSettings() throws -> Bool {
        do {
            _ = try Settings.load(from: home)
            return false
        } catch HappyError.fileProblem(let path, _) where path == home.settingsPath {
            let settingsLock = try SettingsLock(home: home, environment: settingsLockEnvironment)
            defer { settingsLock.release() }
            let aside = home.settingsPath + ".corrupt"
            guard rename(home.settingsPath, aside) == 0 else {
                throw HappyError.fileProblem(
                    path: home.settingsPath, reason: "cannot move it aside (\(String(cString: strerror(errno))))")
            }
            return true
        }
    }

    /// Removes `access.key` and the machine id; keeps every other settings key. Removes `settings.json` when
    /// nothing else is left in it. Returns what was removed, for the report.
    public func clear(onSettingsWait: (String) -> Void = { _ in }) throws -> (
        removedCredentials: Bool, removedMachineId: Bool
    ) {
        var info = stat()
        guard stat(home.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return (false, false) }
        let lock = try HomeLock(home: home)
        defer { withExtendedLifetime(lock) {} }
        let settingsLock = try SettingsLock(home: home, environment: settingsLockEnvironment, onWait: onSettingsWait)
        defer { settingsLock.release() }
        home.removeStaleTemporaryFiles()
        let removedKey = try home.remove(home.accessKeyPath)
        var removedId = false
        if let settings = try? Settings.load(from: home), settings.machineId != nil {
            var updated = settings
            updated.machineId = nil
            if updated.isEmptyWithoutMachineId {
                try home.remove(home.settingsPath)
            } else {
                try updated.store(in: home)
            }
            removedId = true
        }
        return (removedKey, removedId)
    }
}
