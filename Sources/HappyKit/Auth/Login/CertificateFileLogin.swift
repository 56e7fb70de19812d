/// `happy auth login --cert <file> [--key <file>]` (PROTOCOL §2): a PEM certificate (its key in the same file or in
/// `--key`) or a PKCS#12 bundle; the format comes from the content, not the name.
struct CertificateFileLogin: CertificateLogin {
    let certificatePath: String
    let keyPath: String?

    func loadIdentity(_ login: LoginSession, password: CertificatePassword) throws -> ClientIdentity {
        try ClientIdentity.load(
            certificatePath: certificatePath, keyPath: keyPath, environment: login.context.environment
        ) {
            try password.read(prompt: "Password for \(certificatePath): ")
        }
    }
}
