// The start-up floor `make bench` compares `happy auth status` with: a plain Swift program that reads the same two
// files status reads (access.key and settings.json in $HAPPY_HOME_DIR), decodes them as JSON and prints one line,
// with FoundationEssentials only — no argument parser, no network stack. Built by scripts/bench.py with
// `swiftc -O -static-stdlib`.
import FoundationEssentials
import Glibc

struct AccessKey: Decodable { let token: String }
struct Settings: Decodable { let machineId: String? }

let home = ProcessInfo.processInfo.environment["HAPPY_HOME_DIR"] ?? ""
do {
    let key = try JSONDecoder().decode(AccessKey.self, from: Data(contentsOf: URL(filePath: home + "/access.key")))
    let settings = try? JSONDecoder().decode(Settings.self,
                                             from: Data(contentsOf: URL(filePath: home + "/settings.json")))
    print("logged in (token of \(key.token.utf8.count) bytes, machine \(settings?.machineId ?? "none"))")
} catch {
    print("not logged in: \(error)")
    exit(1)
}
