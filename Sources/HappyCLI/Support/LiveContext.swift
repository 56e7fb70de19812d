import FoundationEssentials
import Glibc
import HappyKit

/// The real world, assembled once per run. Nothing here opens a connection: the transport is made on demand.
enum LiveContext {
    static func make(debug: Bool) -> HappyContext {
        var environment = ProcessInfo.processInfo.environment
        if debug { environment["HAPPY_DEBUG"] = "1" }
        let home = HappyHome.resolve(environment: environment, userHome: userHome(environment))
        let console = LiveConsole.make(environment: environment)
        let timing = Timing.live()
        let isDebug = ["1", "true", "yes"].contains(environment["HAPPY_DEBUG"]?.lowercased() ?? "")
        let env = environment
        return HappyContext(
            console: console,
            makeTransport: { options in
                let live = try AsyncHTTPTransport(options: options, environment: env)
                guard isDebug else { return live }
                return LoggingTransport(base: live, log: console.err, elapsed: timing.elapsed)
            },
            timing: timing, environment: environment, home: home,
            browser: SystemBrowserOpener(environment: environment), hostName: hostName(),
            random: { Double.random(in: 0..<1) }, processes: .live())
    }

    static func userHome(_ environment: [String: String]) -> String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        // NSTemporaryDirectory(), which FoundationEssentials lacks: $TMPDIR, else /tmp, with a trailing slash.
        let tmp = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return tmp.hasSuffix("/") ? tmp : tmp + "/"
    }

    /// gethostname(2): no DNS lookup, so `status` stays fast.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
