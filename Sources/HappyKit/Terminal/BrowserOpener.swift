import Foundation

/// Opens a URL in the user's browser.
public protocol BrowserOpener: Sendable {
    /// Returns whether a browser command was started.
    func open(_ url: String) -> Bool
}

/// `$BROWSER` (a command, or a `:`-separated list of them; `%s` is replaced by the URL), else `xdg-open`
/// (`open` on macOS). The child's output goes to /dev/null and it is not waited on.
public struct SystemBrowserOpener: BrowserOpener {
    let environment: [String: String]

    public init(environment: [String: String]) { self.environment = environment }

    public func open(_ url: String) -> Bool {
        var candidates: [String] = []
        if let b = environment["BROWSER"], !b.isEmpty { candidates += b.split(separator: ":").map(String.init) }
        #if os(macOS)
        candidates.append("open")
        #else
        candidates.append("xdg-open")
        #endif
        for command in candidates {
            var argv = command.split(separator: " ").map(String.init)
            guard !argv.isEmpty else { continue }
            if argv.contains(where: { $0.contains("%s") }) {
                argv = argv.map { $0.replacingOccurrences(of: "%s", with: url) }
            } else {
                argv.append(url)
            }
            if spawnDetached(argv) { return true }
        }
        return false
    }

    private func spawnDetached(_ argv: [String]) -> Bool {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, &cArgs, environ)
        return rc == 0
    }
}
