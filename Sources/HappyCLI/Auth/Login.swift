import ArgumentParser
import HappyKit

extension Happy.Auth {
    struct Login: HappyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link this machine to your Happy account.",
            discussion: """
                Without --cert: shows a QR code to scan with the Happy app (or a link to open in the web app), \
                waits for your approval, and stores the credentials in $HAPPY_HOME_DIR (default ~/.happy).
                With --cert: logs in with a device certificate over mutual TLS (an enterprise, keyless login).
                With --method certificate: the browser presents a certificate it holds and hands the login back to \
                this terminal through a listener on 127.0.0.1 (keyless).
                """)

        @Option(
            help: """
                How to approve: mobile (QR code), web (browser) or certificate (a device certificate the browser \
                holds). Asked when run in a terminal; mobile otherwise.
                """)
        var method: LoginMethod?
        @Flag(help: "Stop the daemon, clear the stored credentials and machine ID, and log in again.")
        var force = false
        @Flag(help: "Print the web approval link (or the certificate sign-in link) without opening a browser.")
        var noBrowser = false
        @Option(help: ArgumentHelp("Seconds the whole login may take (at most 604800, a week).", valueName: "seconds"))
        var timeout = 300
        @Flag(help: "Draw the QR code for terminals with a light background.")
        var invertQr = false
        @Option(
            help: ArgumentHelp(
                "Log in with this device certificate: PEM (certificate, optionally with its key), "
                    + "PKCS#12 (.p12/.pfx), or a pkcs11: URI naming a certificate and key on a token.",
                valueName: "file|uri"),
            completion: .file(extensions: ["pem", "crt", "p12", "pfx"]))
        var cert: CertificateArgument?
        @Option(
            help: ArgumentHelp("The certificate's private key, when it is in a separate PEM file.", valueName: "file"),
            completion: .file(extensions: ["pem", "key"]))
        var key: String?
        @Option(
            help: ArgumentHelp(
                "A file holding the password of the key or PKCS#12 file, or the token's PIN "
                    + "(also $HAPPY_CERT_PASSWORD).",
                valueName: "file"),
            completion: .file())
        var certPasswordFile: String?
        @Option(
            help: ArgumentHelp(
                "With a pkcs11: --cert: the PKCS#11 module (also $HAPPY_PKCS11_MODULE; default: "
                    + "p11-kit's proxy module).", valueName: "path"),
            completion: .file(extensions: ["so"]))
        var pkcs11Module: String?
        @Option(
            help: ArgumentHelp(
                "With --cert: ask the certificate's OCSP responder first. soft (default) warns when it cannot tell, "
                    + "strict stops, off skips the check.", valueName: "mode"))
        var revocationCheck: RevocationCheck?
        @OptionGroup var serverOptions: ServerOptions

        var wantsDebug: Bool { serverOptions.debug }

        mutating func run() async throws { try await runLive() }

        func run(in context: HappyContext) async throws {
            let options = LoginOptions(server: try serverOptions.serverURL(in: context)) {
                $0.caFile = serverOptions.caFile(in: context)
                $0.method = method
                $0.certificate = cert?.source(key: key, module: pkcs11Module)
                $0.passwordFile = certPasswordFile
                $0.revocationCheck = revocationCheck ?? .soft
                $0.force = force
                $0.openBrowser = !noBrowser
                $0.timeout = .seconds(timeout)
                $0.qrInverted = invertQr
            }
            try await LoginFlow(options: options, context: context).run()
        }
    }
}
