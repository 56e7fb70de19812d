import FoundationEssentials
import Glibc

/// Whether a pid is shown to be the happy daemon of a home (PROTOCOL §3, ours). An answer to `/stop` proves
/// nothing, and neither does "happy" somewhere in a command line: pids are reused and any local server can answer.
/// Proof is one of:
/// - the daemon's lock `daemon.state.json.lock` names the pid and that process holds the lock file open (the
///   TypeScript daemon keeps it open for its whole life), or
/// - its command line is a happy daemon's (`… daemon start-sync`) and it started before `daemon.state.json` was
///   written (a process started later is a reused pid).
public enum DaemonProof: Sendable, Equatable {
    case proven(String)
    case unproven(String)

    public var isProven: Bool { if case .proven = self { true } else { false } }
    public var reason: String {
        switch self {
        case .proven(let why), .unproven(let why): why
        }
    }
}

/// The live proof, read from `/proc` (Linux). `procRoot` is a seam for tests.
public struct ProcDaemonInspector: Sendable {
    public var procRoot: String

    public init(procRoot: String = "/proc") { self.procRoot = procRoot }

    public func prove(pid: Int32, home: HappyHome) -> DaemonProof {
        guard pid > 1, pid != getpid(), pid != getppid() else {
            return .unproven("pid \(pid) cannot be the happy daemon")
        }
        if holdsLock(pid: pid, lockPath: home.daemonStatePath + ".lock") {
            return .proven("pid \(pid) holds daemon.state.json.lock open")
        }
        guard let argv = commandLine(pid) else {
            return .unproven(
                "pid \(pid) cannot be inspected, and daemon.state.json.lock does not prove it is the happy daemon")
        }
        let isDaemonCommand = zip(argv, argv.dropFirst()).contains { $0 == "daemon" && $1 == "start-sync" }
        guard isDaemonCommand else {
            return .unproven(
                "pid \(pid) is not a happy daemon (\(TerminalText.excerpt(argv.joined(separator: " "), limit: 60)))")
        }
        guard let started = startTime(pid), let written = modificationTime(home.daemonStatePath),
            started <= written + 1
        else {
            return .unproven(
                "pid \(pid) runs a happy daemon command but started after daemon.state.json was written (a reused pid)")
        }
        return .proven("pid \(pid) runs `daemon start-sync` and started before daemon.state.json was written")
    }

    /// The lock names `pid` (as its text, or as `{"pid": n}`) and `pid` has the very file (device and inode) open.
    func holdsLock(pid: Int32, lockPath: String) -> Bool {
        guard Self.pidNamed(byLock: lockPath) == pid else { return false }
        var lock = stat()
        guard stat(lockPath, &lock) == 0 else { return false }
        let fdDirectory = "\(procRoot)/\(pid)/fd"
        guard let dir = opendir(fdDirectory) else { return false }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.first?.isNumber == true else { continue }
            var open = stat()
            // stat follows the /proc magic link to the file the process has open.
            if stat("\(fdDirectory)/\(name)", &open) == 0, open.st_dev == lock.st_dev, open.st_ino == lock.st_ino {
                return true
            }
        }
        return false
    }

    /// The pid a daemon lock names (its text, or `{"pid": n}`), when it is a regular file naming one.
    public static func pidNamed(byLock lockPath: String) -> Int32? {
        guard let bytes = try? BoundedFile.read(lockPath, limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespaceAndNewlines()
        let named: Int? =
            Int(text)
            ?? (try? JSONParser.parse(text)).flatMap { DaemonState.integer($0["pid"], in: 2...Int(Int32.max)) }
        return named.flatMap { Int32(exactly: $0) }
    }

    /// argv of `pid`, or nil when it cannot be read.
    func commandLine(_ pid: Int32) -> [String]? {
        guard let bytes = Self.readProc("\(procRoot)/\(pid)/cmdline"), !bytes.isEmpty else { return nil }
        return bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            .filter { !$0.isEmpty }
    }

    /// When `pid` started, in seconds since the epoch (from its start tick and the boot time).
    func startTime(_ pid: Int32) -> Int? {
        guard let stat = Self.readProc("\(procRoot)/\(pid)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")),
            let boot = Self.readProc("\(procRoot)/stat")
        else { return nil }
        // Fields after "comm)": state is field 3, starttime is field 22.
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 19, let ticks = Int(String(decoding: fields[19], as: UTF8.self)) else { return nil }
        let bootLine = String(decoding: boot, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("btime ") }
        guard let btime = bootLine.flatMap({ Int($0.dropFirst(6).trimmingWhitespace()) }) else { return nil }
        let hz = sysconf(Int32(_SC_CLK_TCK))
        guard hz > 0 else { return nil }
        return btime + ticks / hz
    }

    func modificationTime(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_mtim.tv_sec)
    }

    /// /proc files report size 0, so they are read to their end, capped at 64 KiB.
    static func readProc(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while out.count < 1 << 16 {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            out += chunk[0..<n]
        }
        return out
    }
}
