import ArgumentParser
import HappyKit

extension LoginMethod: ExpressibleByArgument {}

extension Happy.Auth {
    struct Login: HappyCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link this machine to your Happy account.",
            discussion: """
                Without --cert: shows a QR code to scan with the Happy app (or a link to open in the web app), \
                waits for your approval, and stores the credentials in $HAPPY_HOME_DIR (default ~/.happy).
                With --cert: logs in with a device certificate over mutual TLS (an enterprise, keyless login).
                """)

        @Option(help: "How to approve: mobile (QR code) or web (browser). Asked when run in a terminal; mobile otherwise.")
        var method: LoginMethod?
        @Flag(help: "Stop the daemon, clear the stored credentials and machine ID, and log in again.")
        var force = false
        @Flag(help: "Print the web approval link without opening a browser.")
        var noBrowser = false
        @Option(help: ArgumentHelp("Seconds the whole login may take (at most 604800, a week).", valueName: "seconds"))
        var timeout = 300
        @Flag(help: "Draw the QR code for terminals with a light background.")
        var invertQr = false
        @Option(help: ArgumentHelp("Log in with this device certificate: PEM (certificate, optionally with its key) or PKCS#12 (.p12/.pfx).",
                                   valueName: "file"),
                completion: .file(extensions: ["pem", "crt", "p12", "pfx"]))
        var cert: String?
        @Option(help: ArgumentHelp("The certificate's private key, when it is in a separate PEM file.", valueName: "file"),
                completion: .file(extensions: ["pem", "key"]))
        var key: String?
        @Option(help: ArgumentHelp("A file holding the password of the key or PKCS#12 file (also $HAPPY_CERT_PASSWORD).",
                                   valueName: "file"),
                completion: .file())
        var certPasswordFile: String?
        @OptionGroup var serverOptions: ServerOptions

        var wantsDebug: Bool { serverOptions.debug }

        func validate() throws {
            guard (1...DeviceLoginOptions.maximumTimeoutSeconds).contains(timeout) else {
                throw ValidationError("--timeout must be between 1 and \(DeviceLoginOptions.maximumTimeoutSeconds) seconds")
            }
            if cert == nil, key != nil { throw ValidationError("--key needs --cert") }
            if cert == nil, certPasswordFile != nil { throw ValidationError("--cert-password-file needs --cert") }
            if cert != nil, method != nil { throw ValidationError("--method applies to the QR/web login, not to --cert") }
        }

        mutating func run() async throws { try await runLive() }

        func run(in context: HappyContext) async throws {
            let server = try context.serverURL(override: serverOptions.server)
            let caFile = context.caFile(override: serverOptions.ca)
            if let cert {
                let options = CertificateLoginOptions(
                    server: server, certificatePath: cert, keyPath: key, passwordFile: certPasswordFile,
                    caFile: caFile, force: force)
                try await CertificateLoginFlow(options: options, context: context).run()
            } else {
                let options = DeviceLoginOptions(
                    server: server, method: method, force: force, openBrowser: !noBrowser, timeoutSeconds: timeout,
                    caFile: caFile, qrInverted: invertQr)
                try await DeviceLoginFlow(options: options, context: context).run()
            }
        }
    }
}
