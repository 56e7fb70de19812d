import ArgumentParser
import Foundation
import HappyTestServer

extension PhoneAccount.Version: EnumerableFlag {}
extension PhoneAccount.Payload: ExpressibleByArgument {}

extension HappyTestServerCommand {
    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a terminal's auth request over HTTP, as the phone app does.",
            discussion: """
                Logs in with the account of the master secret (--secret, else HAPPY_TEST_SERVER_SECRET, else a fresh \
                random account), checks the request is pending, and answers it. Prints `approved v1` or \
                `approved v2`. The secret is never printed.
                """)

        @Option(help: "Base URL of the server, e.g. http://127.0.0.1:8080.") var server: String
        @Flag(help: "Answer layout; default v2 when the request supports it, else v1.") var version:
            PhoneAccount.Version?
        @Option(help: "Plaintext to seal: legacy, datakey, bad-version or bad-length.") var payload:
            PhoneAccount.Payload?
        @Flag(help: "Flip a ciphertext byte after sealing.") var tamper = false
        @Option(help: "Standard base64 of the 32-byte master secret.") var secret: String?
        @Option(help: "PEM file of extra roots to trust for an https server.") var ca: String?
        @Argument(help: "happy://terminal?<key> URL, …/terminal/connect#key=<key>, or the base64url/base64 key.")
        var terminal: String

        func validate() throws {
            guard PhoneAccount.terminalPublicKey(from: terminal) != nil else {
                throw ValidationError("'\(terminal)' is not a terminal URL or a 32-byte public key")
            }
        }

        func run() async throws {
            let account = try makeAccount()
            do {
                let sent = try await PhoneApprover.approve(
                    serverURL: server, account: account, caFile: ca,
                    terminalPublicKey: PhoneAccount.terminalPublicKey(from: terminal) ?? [],
                    options: .init(version: version, payload: payload, tamper: tamper))
                print("approved \(sent.rawValue)")
            } catch {
                FileHandle.standardError.write(Data("happy-test-server: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }

        func makeAccount() throws -> PhoneAccount {
            guard let encoded = secret ?? ProcessInfo.processInfo.environment["HAPPY_TEST_SERVER_SECRET"] else {
                let note = "no --secret or HAPPY_TEST_SERVER_SECRET; approving as a new random account"
                FileHandle.standardError.write(Data("happy-test-server: \(note)\n".utf8))
                return try .random()
            }
            do { return try PhoneAccount(base64MasterSecret: encoded) } catch {
                throw ValidationError("\(error)")
            }
        }
    }
}
