import Glibc

/// Living beside the full happy CLI (PROTOCOL §7). The TypeScript `happy` (sessions, daemon) installs the same
/// command name; a command line this `happy` does not implement is handed to it, as ccache hands a compile to the
/// real compiler further down `PATH`. This type decides, from plain values: which command lines are ours, and which
/// program is the full CLI — `$HAPPY_FULL_CLI`, else the first `happy` on `PATH` that is not this program.
///
/// "This program" is compared by device and inode after following links, so a symlink to us or a second `PATH`
/// entry holding us is skipped. Two separate copies of this program (a `.deb` in /usr/bin and `make install` in
/// /usr/local/bin) are told apart from the full CLI by a marker: each copy adds its own identity to
/// `HAPPY_PASSTHROUGH_SKIP` before handing over, and every copy skips every identity listed there, so a hand-over
/// can never come back to a copy it passed through.
public struct FullCLILocator: Sendable {
    /// A file as the kernel identifies it.
    public struct FileIdentity: Hashable, Sendable {
        public var device: UInt64
        public var inode: UInt64

        public init(device: UInt64, inode: UInt64) {
            self.device = device
            self.inode = inode
        }
    }

    /// Where a command line goes.
    public enum Destination: Equatable, Sendable {
        /// Exec `path`, with `marker` as the new value of `HAPPY_PASSTHROUGH_SKIP`.
        case fullCLI(path: String, marker: String)
        /// `HAPPY_FULL_CLI` names this program (or a copy that already passed the line on): one line, exit 64.
        case refused(String)
        /// No full CLI here.
        case notInstalled
    }

    public static let explicitVariable = "HAPPY_FULL_CLI"
    public static let markerVariable = "HAPPY_PASSTHROUGH_SKIP"

    /// `HAPPY_FULL_CLI`, `PATH` and `HAPPY_PASSTHROUGH_SKIP`; nothing else is read.
    public var environment: [String: String]
    /// This program's identity (`/proc/self/exe`); nil when it cannot be told, and then `PATH` is never searched.
    public var current: FileIdentity?
    /// The identity of an executable regular file at `path` (links followed), else nil.
    public var executableIdentity: @Sendable (String) -> FileIdentity?

    public init(
        environment: [String: String], current: FileIdentity?,
        executableIdentity: @escaping @Sendable (String) -> FileIdentity?
    ) {
        self.environment = environment
        self.current = current
        self.executableIdentity = executableIdentity
    }

    /// The real process: the three variables from `getenv`, stat(2) for identities.
    public static func live() -> FullCLILocator {
        var environment: [String: String] = [:]
        for name in [explicitVariable, "PATH", markerVariable] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return FullCLILocator(
            environment: environment, current: identity(of: "/proc/self/exe", executable: false),
            executableIdentity: { identity(of: $0, executable: true) })
    }

    /// Whether `arguments` (argv without argv[0]) belong to the full CLI: no arguments at all, or a first word other
    /// than `auth`, `help`, `--help`, `-h` and `--version`. ArgumentParser's own tooling flags (completion scripts,
    /// the manual's help dump) stay ours too, or `make completions` and `make man` would hand them over.
    public static func isForFullCLI(_ arguments: ArraySlice<String>) -> Bool {
        guard let first = arguments.first else { return true }
        if ["auth", "help", "--help", "-h", "--version"].contains(first) { return false }
        let tooling = ["--generate-completion-script", "--experimental-dump-help", "---completion"]
        return !tooling.contains { first == $0 || first.hasPrefix($0 + "=") }
    }

    /// Where the full CLI is.
    public func locate() -> Destination {
        var skipped = Self.parseMarker(environment[Self.markerVariable] ?? "")
        if let current { skipped.append(current) }
        let marker = Self.formatMarker(skipped)
        if let explicit = environment[Self.explicitVariable], !explicit.isEmpty {
            if let found = executableIdentity(explicit), skipped.contains(found) {
                return .refused(
                    "\(Self.explicitVariable)=\(TerminalText.escape(explicit)) is this happy itself, not the full "
                        + "happy CLI; point it at the full CLI (installed by npm) or unset it")
            }
            return .fullCLI(path: explicit, marker: marker)
        }
        // Without knowing ourselves, the first `happy` on PATH may be us: never risk handing a line to ourselves.
        guard current != nil else { return .notInstalled }
        let path = environment["PATH"] ?? ""
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/happy"  // an empty entry is the cwd
            guard let found = executableIdentity(candidate), !skipped.contains(found) else { continue }
            return .fullCLI(path: candidate, marker: marker)
        }
        return .notInstalled
    }

    /// "dev:ino dev:ino …"; anything unreadable in it is ignored (it only ever adds skips).
    static func parseMarker(_ text: String) -> [FileIdentity] {
        text.split(separator: " ").compactMap { item in
            let parts = item.split(separator: ":")
            guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
            return FileIdentity(device: device, inode: inode)
        }
    }

    static func formatMarker(_ identities: [FileIdentity]) -> String {
        var unique: [FileIdentity] = []
        for identity in identities where !unique.contains(identity) { unique.append(identity) }
        return unique.map { "\($0.device):\($0.inode)" }.joined(separator: " ")
    }

    /// stat(2), following links. With `executable`, only a regular file this user may execute counts.
    static func identity(of path: String, executable: Bool) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        if executable {
            guard info.st_mode & S_IFMT == S_IFREG, access(path, X_OK) == 0 else { return nil }
        }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
