import FoundationEssentials
import Glibc

/// Opens a URL in the user's browser.
public protocol BrowserOpener: Sendable {
    /// Returns whether a browser command was started.
    func open(_ url: String) -> Bool
    /// Opens `url` without putting it in any process's argv (where every local user can read it): the browser is
    /// given a private page that redirects to it (`BrowserRedirectPage`). Nil when no browser command started; the
    /// caller removes the page once the browser is done with it.
    func openPrivately(_ url: String) -> BrowserRedirectPage?
}

extension BrowserOpener {
    /// Openers that start no process (test fakes) are handed the URL itself.
    public func openPrivately(_ url: String) -> BrowserRedirectPage? { open(url) ? BrowserRedirectPage.none : nil }
}

/// `$BROWSER` (a command, or a `:`-separated list of them; `%s` is replaced by the URL), else `xdg-open`
/// (`open` on macOS). The child's output goes to /dev/null; a thread of its own reaps it whenever it exits.
public struct SystemBrowserOpener: BrowserOpener {
    let environment: [String: String]

    public init(environment: [String: String]) { self.environment = environment }

    public func open(_ url: String) -> Bool {
        launch(url)
    }

    /// Writes the redirect page and opens the browser on its `file://` URL; the page is removed again when no
    /// browser command could be started.
    public func openPrivately(_ url: String) -> BrowserRedirectPage? {
        guard let page = try? BrowserRedirectPage(redirectingTo: url, environment: environment) else { return nil }
        guard launch(page.fileURL) else {
            page.remove()
            return nil
        }
        return page
    }

    private func launch(_ url: String) -> Bool {
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
                argv = argv.map { $0.replacing("%s", with: url) }
            } else {
                argv.append(url)
            }
            if spawnDetached(argv) { return true }
        }
        return false
    }

    /// Starts the browser as a clean child: stdio on /dev/null, every other descriptor closed (sockets, epoll,
    /// pipes of ours never leak into it), an empty signal mask and default dispositions for every signal.
    private func spawnDetached(_ argv: [String]) -> Bool {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        Self.closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, environ) == 0 else { return false }
        // Reap the child whenever it exits (xdg-open at once, a cold-started browser much later): no zombie.
        let child = pid
        PThread.detach(name: "happy-reap", stackSize: 64 * 1024) {
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        }
        return true
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np(actions, 3)` (2.34+, not in Swift's Glibc module, so found
    /// at run time); without it, each descriptor above 2 open now is closed one by one.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
            if closeFrom(&actions, 3) == 0 { return }
        }
        guard let dir = opendir("/proc/self/fd") else { return }
        var open: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let fd = Int32(name), fd > 2 { open.append(fd) }
        }
        let own = dirfd(dir)
        closedir(dir)
        for fd in open where fd != own && fcntl(fd, F_GETFD) >= 0 { posix_spawn_file_actions_addclose(&actions, fd) }
    }
}
