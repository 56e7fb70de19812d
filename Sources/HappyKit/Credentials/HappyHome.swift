import FoundationEssentials
import Glibc

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

    /// Creates the home (and missing parents) with mode 0700. An existing directory is never chmod-ed: happy did not
    /// create it (it may be a shared directory whose mode matters to others); `permissionWarnings` reports a loose
    /// one instead, as ssh does. Returns whether it created the home.
    @discardableResult
    public func ensureExists() throws -> Bool {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw HappyError.fileProblem(path: path, reason: "exists but is not a directory")
            }
            return false
        }
        let parent = AtomicFile.split(path).directory
        if parent != path, access(parent, F_OK) != 0 { try HappyHome(path: parent).ensureExists() }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw HappyError.fileProblem(
                path: path, reason: "cannot create the directory (\(BoundedFile.describe(errno)))")
        }
        // mkdir applies the umask; this directory is ours, so it gets exactly 0700.
        chmod(path, 0o700)
        return true
    }

    /// Before a login asks the server anything: the home exists (made if missing), is ours, and takes a write of a
    /// few KiB (read-only, full, or foreign homes fail here, before any network). Returns whether it made the home.
    public func checkWritable() throws -> Bool {
        let created = try ensureExists()
        do {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw HappyError.fileProblem(path: path, reason: "cannot inspect it (\(BoundedFile.describe(errno)))")
            }
            guard info.st_uid == geteuid() else {
                throw HappyError.fileProblem(
                    path: path,
                    reason: "belongs to another user (uid \(info.st_uid)), so happy will not write its credentials "
                        + "there; set HAPPY_HOME_DIR to a directory of yours")
            }
            // 8 KiB of zeros: more than access.key and settings.json need together.
            _ = try AtomicFile.prepare([UInt8](repeating: 0, count: 8192), for: path + "/write-check")
        } catch let HappyError.fileProblem(_, reason) {
            if created { removeIfEmpty() }
            throw HappyError.fileProblem(
                path: path, reason: "cannot be written (\(reason)); nothing was sent to the server")
        }
        return created
    }

    /// ssh-style warnings: a home that group or others can enter, or an `access.key` they can read.
    public func permissionWarnings() -> [String] {
        var warnings: [String] = []
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_mode & 0o077 != 0 {
            warnings.append(
                "\(path) is accessible by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "run `chmod 700 \(path)`")
        }
        if lstat(accessKeyPath, &info) == 0, info.st_mode & S_IFMT != S_IFREG, info.st_mode & S_IFMT != S_IFLNK {
            // A FIFO, a directory or a device is no credential at all: say what it is, not what its mode is.
            warnings.append(
                "\(accessKeyPath) is \(BoundedFile.kindName(info.st_mode & S_IFMT)), not a regular file; "
                    + "remove it and log in again")
        } else if stat(accessKeyPath, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            warnings.append(
                "\(accessKeyPath) leads to \(BoundedFile.kindName(info.st_mode & S_IFMT)), not a regular file; "
                    + "remove it and log in again")
        } else if stat(accessKeyPath, &info) == 0, info.st_mode & 0o077 != 0 {
            warnings.append(
                "\(accessKeyPath) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "run `chmod 600 \(accessKeyPath)`")
        }
        return warnings.map { TerminalText.escape($0) }
    }

    /// Removes temporary files a killed run left behind (`.access.key.tmp-…`, `.settings.json.tmp-…`,
    /// `.write-check.tmp-…`). Called under the home lock, so no live writer's file is touched.
    func removeStaleTemporaryFiles() {
        guard let dir = opendir(path) else { return }
        defer { closedir(dir) }
        var stale: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            for target in ["access.key", "settings.json", "write-check"]
            where name.hasPrefix("." + target + AtomicFile.temporaryMarker) && name.count == target.count + 12 {
                stale.append(name)
            }
        }
        for name in stale { unlink(path + "/" + name) }
    }

    /// Reads a file of the home; nil when it does not exist. Only a regular file of at most 1 MiB is read, checked
    /// before reading (a FIFO or a device is reported, never waited on); other failures are reported.
    func read(_ file: String) throws -> [UInt8]? {
        do { return try BoundedFile.read(file) } catch .missing { return nil } catch {
            throw HappyError.fileProblem(path: file, reason: "cannot read it: \(error.reason)")
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
