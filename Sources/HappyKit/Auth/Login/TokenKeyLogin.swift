import FoundationEssentials

/// `happy auth login --cert 'pkcs11:…'` (PROTOCOL §6): the certificate and private key are token objects; the key
/// never leaves the token, which signs the handshake. The module is `--pkcs11-module`, else `HAPPY_PKCS11_MODULE`,
/// else p11-kit's proxy (every module registered with p11-kit). `access.key` records the URI, never a PIN.
struct TokenKeyLogin: CertificateLogin {
    let uri: PKCS11URI
    /// `--pkcs11-module`; nil: the environment, else p11-kit's proxy.
    let modulePath: String?

    func loadIdentity(_ login: LoginSession, password: CertificatePassword) throws -> ClientIdentity {
        let module =
            modulePath ?? login.context.environment["HAPPY_PKCS11_MODULE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.p11KitProxy
        let label = uri["token"].map { "token \"\($0)\"" } ?? "the token"
        return try ClientIdentity.loadToken(uri: uri, modulePath: module) {
            try password.read(prompt: "PIN for \(label): ")
        }
    }

    /// p11-kit's proxy module, which reaches every module registered with p11-kit (SoftHSM, OpenSC, YubiKey PIV…).
    static var p11KitProxy: String {
        let candidates = [
            "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so", "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so",
            "/usr/lib64/p11-kit-proxy.so", "/usr/lib/p11-kit-proxy.so",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
    }
}
