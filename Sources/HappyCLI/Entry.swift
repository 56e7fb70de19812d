import Dispatch
import Glibc
import HappyKit

/// The process entry. `happy auth status`, which shell prompts and scripts run all the time, and `happy --version`
/// are answered here synchronously: no argument parser, no concurrency runtime, no thread, no event loop — for
/// status the two files and one write (`make bench` measures it). A command line for the full happy CLI (sessions,
/// daemon) is handed to it (`FullCLI`). Every other command line, including any spelling this does not recognise
/// (`--help`, a repeated flag, a typo), goes to ArgumentParser as before.
@main
enum Entry {
    static func main() {
        StandardOutput.guardStandardDescriptors()
        let arguments = CommandLine.arguments.dropFirst()
        if let json = Happy.Auth.Status.fastPath(arguments) {
            let status = Happy.Auth.Status.report(json: json, in: LiveContext.make(debug: false))
            exit(StandardOutput.checked(status).rawValue)  // 74 when the report could not be written
        }
        if arguments.elementsEqual(["--version"]) {
            LiveConsole.write(Happy.configuration.version + "\n", to: 1)  // what ArgumentParser prints for it
            exit(StandardOutput.checked(.ok).rawValue)
        }
        if FullCLILocator.isForFullCLI(arguments) { FullCLI.run(arguments) }  // execs the full CLI, or explains
        Task {
            await Happy.main()  // exits by itself with the command's status on any failure
            exit(0)
        }
        dispatchMain()
    }
}
