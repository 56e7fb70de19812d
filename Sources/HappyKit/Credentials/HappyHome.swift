import Foundation

/// The Happy home directory (PROTOCOL §3): `$HAPPY_HOME_DIR` with a leading `~` expanded, else `~/.happy`.
/// Resolving it touches nothing on disk.
public struct HappyHome: Sendable, Equatable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Resolves the home from the environment; `userHome` is `$HOME` (or the passwd entry) of the user.
    public static func resolve(environment: [String: String], userHome: String) -> HappyHome {
        if let custom = environment["HAPPY_HOME_DIR"], !custom.isEmpty {
            if custom == "~" { return HappyHome(path: userHome) }
            if custom.hasPrefix("~/") { return HappyHome(path: userHome + String(custom.dropFirst(1))) }
            return HappyHome(path: custom)
        }
        return HappyHome(path: userHome + "/.happy")
    }

    public var accessKeyPath: String { path + "/access.key" }
    public var settingsPath: String { path + "/settings.json" }
    public var daemonStatePath: String { path + "/daemon.state.json" }

    /// Creates the home (and parents) with mode 0700, and tightens an existing one to 0700.
    public func ensureExists() throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw HappyError.fileProblem(path: path, reason: "exists but is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(
                    atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw HappyError.fileProblem(path: path, reason: "cannot create the directory (\(AtomicFile.describe(error)))")
            }
        }
        guard chmod(path, 0o700) == 0 else {
            throw HappyError.fileProblem(path: path, reason: "cannot set mode 0700 (\(String(cString: strerror(errno))))")
        }
    }

    /// Reads a file of the home; nil when it does not exist. Other failures are reported.
    func read(_ file: String) throws -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: file) else {
            if errno == ENOENT || !FileManager.default.fileExists(atPath: file) { return nil }
            throw HappyError.fileProblem(path: file, reason: "cannot read (\(String(cString: strerror(errno))))")
        }
        defer { try? handle.close() }
        do {
            guard let data = try handle.readToEnd() else { return [] }
            guard data.count <= 1 << 20 else { throw HappyError.fileProblem(path: file, reason: "larger than 1 MiB") }
            return [UInt8](data)
        } catch let error as HappyError {
            throw error
        } catch {
            throw HappyError.fileProblem(path: file, reason: "cannot read (\(AtomicFile.describe(error)))")
        }
    }

    /// Removes `file` if it exists; returns whether it did.
    @discardableResult
    func remove(_ file: String) throws -> Bool {
        if unlink(file) == 0 { return true }
        if errno == ENOENT { return false }
        throw HappyError.fileProblem(path: file, reason: "cannot remove (\(String(cString: strerror(errno))))")
    }

    /// Removes the home only when nothing is left in it (PROTOCOL §4, logout). Returns whether it did.
    @discardableResult
    func removeIfEmpty() -> Bool { rmdir(path) == 0 }
}
