import ArgumentParser
import Glibc
import HappyKit

/// The hand-over to the full happy CLI (PROTOCOL §7; `FullCLILocator` decides where). Runs before the argument
/// parser and the concurrency runtime, so the full CLI inherits a plain process: no signal handlers, no threads.
enum FullCLI {
    /// Hands `arguments` to the full CLI with `execv` (never returns then: the exit status is the full CLI's). Without
    /// a full CLI it prints what today's parser prints plus one line on how to get it, and exits 64 (0 for no
    /// arguments). Returns only when the parser, unexpectedly, accepts the line as one of ours.
    static func run(_ arguments: ArraySlice<String>) {
        switch FullCLILocator.live().locate() {
        case .fullCLI(let path, let marker):
            setenv(FullCLILocator.markerVariable, marker, 1)
            // argv[0] as the user typed it: a script's interpreter gets the path from the kernel anyway.
            let argv0 = CommandLine.arguments.first ?? "happy"
            exec(path, [argv0] + arguments)
            let why = String(cString: strerror(errno))
            LiveConsole.write("happy: cannot run the full happy CLI \(TerminalText.escape(path)): \(why)\n", to: 2)
            exit(ExitStatus.failure.rawValue)
        case .refused(let why):
            LiveConsole.write("happy: \(why).\n", to: 2)
            exit(ExitStatus.usage.rawValue)
        case .notInstalled:
            if arguments.isEmpty {
                LiveConsole.write(Happy.helpMessage() + "\n\n" + notInstalledLine + "\n", to: 1)
                exit(ExitStatus.ok.rawValue)
            }
            do {
                _ = try Happy.parseAsRoot(Array(arguments))
                return
            } catch {
                LiveConsole.write(Happy.fullMessage(for: error) + "\n" + notInstalledLine + "\n", to: 2)
                exit(Happy.exitCode(for: error).rawValue)
            }
        }
    }

    static let notInstalledLine = """
        The full happy CLI (sessions, daemon) is not installed; this happy only links the terminal (happy auth). \
        Install it with `npm install -g happy` (after this one on PATH), or set HAPPY_FULL_CLI to its path.
        """

    /// execv(2) with C strings that live until the call; returns only when it failed.
    private static func exec(_ path: String, _ argv: [String]) {
        var cStrings = argv.map { strdup($0) }
        cStrings.append(nil)
        defer { for pointer in cStrings { free(pointer) } }
        _ = execv(path, cStrings)
    }
}
