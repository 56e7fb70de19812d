import Dispatch
import Glibc
import HappyKit

/// The process entry. `happy auth status`, which shell prompts and scripts run all the time, is answered here
/// synchronously: no argument parser, no concurrency runtime, no thread, no event loop — the two files and one
/// write (`make bench` measures it). Every other command line, including any spelling of status this does not
/// recognise (`--help`, a repeated flag, a typo), goes to ArgumentParser as before.
@main
enum Entry {
    static func main() {
        if let json = Happy.Auth.Status.fastPath(CommandLine.arguments.dropFirst()) {
            exit(Happy.Auth.Status.report(json: json, in: LiveContext.make(debug: false)).rawValue)
        }
        Task {
            await Happy.main()  // exits by itself with the command's status on any failure
            exit(0)
        }
        dispatchMain()
    }
}
