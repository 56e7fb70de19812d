import Foundation
import Testing

/// The committed completions and man page match the ArgumentParser definitions; README's flags exist.
@Suite("completions, man page and README stay true")
struct CompletionsTests {
    @Test(arguments: [("bash", "happy.bash"), ("zsh", "_happy"), ("fish", "happy.fish")])
    func committedCompletionsAreCurrent(shell: String, file: String) async throws {
        let scratch = try Scratch()
        let r = try await Spawned.run(Binaries.happy, ["--generate-completion-script", shell],
                                      environment: ProcessInfo.processInfo.environment, in: scratch.path)
        #expect(r.status == 0)
        let committed = try String(contentsOfFile: "\(Binaries.repositoryRoot)/completions/\(file)", encoding: .utf8)
        #expect(committed == r.stdout, "completions/\(file) is stale: run `make completions` and commit it")
    }

    /// Every `--flag` the README names is accepted by some `happy` command's help.
    @Test func everyFlagInTheREADMEExists() async throws {
        let scratch = try Scratch()
        let env = ProcessInfo.processInfo.environment
        var help = ""
        for args in [["--help"], ["auth", "--help"], ["auth", "login", "--help"], ["auth", "status", "--help"],
                     ["auth", "logout", "--help"], ["auth", "approve", "--help"]] {
            let r = try await Spawned.run(Binaries.happy, args, environment: env, in: scratch.path)
            #expect(r.status == 0)
            help += r.stdout
        }
        let readme = try String(contentsOfFile: "\(Binaries.repositoryRoot)/README.md", encoding: .utf8)
        let flags = Set(readme.matches(of: /`(--[a-z][a-z0-9-]*)/).map { String($0.1) })
        #expect(flags.count > 10)
        for flag in flags where !["--generate-completion-script"].contains(flag) {
            #expect(help.contains(flag), "README names \(flag) but no command accepts it")
        }
        // Every exit code of the README's table is in the root help.
        for code in ["64", "69", "75", "76", "77", "130"] { #expect(help.contains(code)) }
    }

    /// The man page documents every flag the commands accept (regenerate with `make man`).
    @Test func manPageListsEveryFlag() async throws {
        let scratch = try Scratch()
        let manual = try String(contentsOfFile: "\(Binaries.repositoryRoot)/completions/happy.1", encoding: .utf8)
        for args in [["auth", "login", "--help"], ["auth", "status", "--help"], ["auth", "logout", "--help"],
                     ["auth", "approve", "--help"]] {
            let r = try await Spawned.run(Binaries.happy, args, environment: ProcessInfo.processInfo.environment,
                                          in: scratch.path)
            for flag in Set(r.stdout.matches(of: /--([a-z][a-z0-9-]*)/).map { String($0.1) }) where flag != "help" {
                #expect(manual.contains(" -\(flag)"), "happy.1 lacks --\(flag): run `make man`")
            }
        }
    }

    @Test func versionIsTheOneInTheClientHeader() async throws {
        let scratch = try Scratch()
        let r = try await Spawned.run(Binaries.happy, ["--version"], environment: ProcessInfo.processInfo.environment,
                                      in: scratch.path)
        #expect(r.status == 0)
        let manual = try String(contentsOfFile: "\(Binaries.repositoryRoot)/completions/happy.1", encoding: .utf8)
        #expect(manual.contains("auth login") || manual.contains("login"))
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == HappyVersionProbe.version)
    }
}

import HappyKit
enum HappyVersionProbe { static let version = HappyVersion.current }
