import ArgumentParser
import Foundation
import HappyKit
import Testing

@testable import HappyCLI

/// A snapshot of `happy auth login --help` at 100 columns: flag names, value names, defaults and the help text are
/// the command's interface, so a change shows up here for review.
@Suite struct HelpTextTests {
    @Test func loginHelpSnapshot() {
        let help = Happy.helpMessage(for: Happy.Auth.Login.self, columns: 100)
        #expect(help.trimmingCharacters(in: .newlines) == Self.loginHelp)
    }

    /// The root help names every exit status happy can return, each with its meaning, and the `auth` group.
    @Test func rootHelpListsTheExitCodes() {
        let help = Happy.helpMessage(for: Happy.self, columns: 100)
        let text = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let sentence = text.components(separatedBy: "Exit codes: ").dropFirst().first?.prefix { $0 != "." } ?? ""
        let entries = sentence.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let codes = entries.compactMap { $0.split(separator: " ").first.flatMap { Int32($0) } }
        #expect(codes == HappyKit.ExitStatus.allCases.map(\.rawValue), "\(entries)")
        #expect(entries.allSatisfy { $0.split(separator: " ").count >= 2 }, "each code has a meaning: \(entries)")
        #expect(help.split(separator: "\n").contains { $0.split(separator: " ").first == "auth" })
    }

    static let loginHelp = """
        OVERVIEW: Link this machine to your Happy account.

        Without --cert: shows a QR code to scan with the Happy app (or a link to open in the web app),
        waits for your approval, and stores the credentials in $HAPPY_HOME_DIR (default ~/.happy).
        With --cert: logs in with a device certificate over mutual TLS (an enterprise, keyless login).
        With --method certificate: the browser presents a certificate it holds and hands the login back to
        this terminal through a listener on 127.0.0.1 (keyless).

        USAGE: happy auth login <options>

        OPTIONS:
          --method <method>       How to approve: mobile (QR code), web (browser) or certificate (a device
                                  certificate the browser holds). Asked when run in a terminal; mobile
                                  otherwise. (values: mobile, web, certificate)
          --force                 Stop the daemon, clear the stored credentials and machine ID, and log in
                                  again.
          --no-browser            Print the web approval link (or the certificate sign-in link) without
                                  opening a browser.
          --timeout <seconds>     Seconds the whole login may take (at most 604800, a week). (default: 300)
          --invert-qr             Draw the QR code for terminals with a light background.
          --cert <file|uri>       Log in with this device certificate: PEM (certificate, optionally with
                                  its key), PKCS#12 (.p12/.pfx), or a pkcs11: URI naming a certificate and
                                  key on a token.
          --key <file>            The certificate's private key, when it is in a separate PEM file.
          --cert-password-file <file>
                                  A file holding the password of the key or PKCS#12 file, or the token's
                                  PIN (also $HAPPY_CERT_PASSWORD).
          --pkcs11-module <path>  With a pkcs11: --cert: the PKCS#11 module (also $HAPPY_PKCS11_MODULE;
                                  default: p11-kit's proxy module).
          --revocation-check <mode>
                                  With --cert: ask the certificate's OCSP responder first. soft (default)
                                  warns when it cannot tell, strict stops, off skips the check. (values:
                                  off, soft, strict)
          --server <url>          The Happy server URL (default: $HAPPY_SERVER_URL, else serverUrl in
                                  settings.json, else the public server).
          --ca <file>             A PEM bundle of extra CA roots to trust for the server (also
                                  $HAPPY_CA_FILE).
          --debug                 Log each request (method, path, status, timing, retries) to stderr;
                                  secrets are never logged. Same as HAPPY_DEBUG=1.
          --version               Show the version.
          -h, --help              Show help information.
        """
}
