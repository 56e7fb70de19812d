import Foundation
import HappyKit
import Testing

/// The committed completions and man page match the ArgumentParser definitions; README's flags exist.
@Suite("completions, man page and README stay true")
struct CompletionsTests {
    @Test(arguments: [("bash", "happy.bash"), ("zsh", "_happy"), ("fish", "happy.fish")])
    func committedCompletionsAreCurrent(shell: String, file: String) async throws {
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy, ["--generate-completion-script", shell],
            environment: TestEnvironment.clean(), in: scratch.path)
        #expect(r.status == 0)
        let committed = try String(contentsOfFile: "\(Binaries.repositoryRoot)/completions/\(file)", encoding: .utf8)
        #expect(committed == r.stdout, "completions/\(file) is stale: run `make completions` and commit it")
    }

    /// Every `--flag` the README names is a whole flag of some `happy` command's help (`--cert` is not found inside
    /// `--cert-password-file`), and the README's exit-code table is the root help's list.
    @Test func everyFlagInTheREADMEExists() async throws {
        let scratch = try Scratch()
        let env = TestEnvironment.clean()
        var help = ""
        for args in [
            ["--help"], ["auth", "--help"], ["auth", "login", "--help"], ["auth", "status", "--help"],
            ["auth", "logout", "--help"], ["auth", "approve", "--help"],
        ] {
            let r = try await Spawned.run(Binaries.happy, args, environment: env, in: scratch.path)
            #expect(r.status == 0)
            help += r.stdout
        }
        let readme = try String(contentsOfFile: "\(Binaries.repositoryRoot)/README.md", encoding: .utf8)
        let flags = Set(readme.matches(of: /`(--[a-z][a-z0-9-]*)/).map { String($0.1) })
        #expect(flags.count > 10)
        let accepted = Self.flags(in: help)
        for flag in flags.subtracting(["--generate-completion-script"]).sorted() {
            #expect(accepted.contains(flag), "README names \(flag) but no command accepts it")
        }
        let table =
            readme.components(separatedBy: "## Exit codes").dropFirst().first?
            .components(separatedBy: "\n## ").first ?? ""
        let documented = Set(table.matches(of: /(?m)^\| ([0-9]+) \|/).compactMap { Int($0.1) })
        #expect(documented.count >= 8)
        let root = try await Spawned.run(Binaries.happy, ["--help"], environment: env, in: scratch.path)
        #expect(Self.exitCodes(inHelp: root.stdout) == documented)
    }

    /// The man page documents every flag the commands accept (regenerate with `make man`).
    @Test func manPageListsEveryFlag() async throws {
        let scratch = try Scratch()
        let manual = try String(contentsOfFile: "\(Binaries.repositoryRoot)/completions/happy.1", encoding: .utf8)
        // mdoc item lines: `.It Fl -cert Ar file`, `.It Fl y , -yes`.
        let items = manual.split(separator: "\n").filter { $0.hasPrefix(".It Fl ") }
        let documented = Set(items.flatMap { $0.matches(of: /\s-([a-z][a-z0-9-]*)/).map { "--" + String($0.1) } })
        for args in [
            ["auth", "login", "--help"], ["auth", "status", "--help"], ["auth", "logout", "--help"],
            ["auth", "approve", "--help"],
        ] {
            let r = try await Spawned.run(Binaries.happy, args, environment: TestEnvironment.clean(), in: scratch.path)
            #expect(r.status == 0)
            for flag in Self.flags(in: r.stdout).subtracting(["--help"]).sorted() {
                #expect(documented.contains(flag), "happy.1 lacks \(flag): run `make man`")
            }
        }
    }

    /// The whole `--flag` tokens of a help text.
    static func flags(in help: String) -> Set<String> {
        Set(help.matches(of: /(?:^|[^A-Za-z0-9-])(--[a-z][a-z0-9-]*)/).map { String($0.1) })
    }

    /// The codes of the root help's "Exit codes: 0 ok; 1 …; 130 interrupted." sentence, however it is wrapped.
    static func exitCodes(inHelp help: String) -> Set<Int> {
        let text = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard let start = text.range(of: "Exit codes: ") else { return [] }
        let sentence = text[start.upperBound...].prefix { $0 != "." }
        return Set(
            sentence.split(separator: ";").compactMap {
                $0.trimmingCharacters(in: .whitespaces).split(separator: " ").first.flatMap { Int($0) }
            })
    }

    @Test func versionIsTheOneInTheClientHeader() async throws {
        let scratch = try Scratch()
        let r = try await Spawned.run(
            Binaries.happy, ["--version"], environment: TestEnvironment.clean(),
            in: scratch.path)
        #expect(r.status == 0)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == HappyVersionProbe.version)
    }
}

enum HappyVersionProbe { static let version = HappyVersion.current }
