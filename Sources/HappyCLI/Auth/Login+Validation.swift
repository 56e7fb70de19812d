import ArgumentParser
import HappyKit

extension Happy.Auth.Login {
    /// Flag combinations (exit 64 before anything runs); a `pkcs11:` URI was parsed where ArgumentParser read it,
    /// and a `pin-value` in it is refused here at once (PROTOCOL §6).
    func validate() throws {
        guard (1...LoginOptions.maximumTimeoutSeconds).contains(timeout) else {
            throw ValidationError("--timeout must be between 1 and \(LoginOptions.maximumTimeoutSeconds) seconds")
        }
        if cert == nil, key != nil { throw ValidationError("--key needs --cert") }
        if cert == nil, certPasswordFile != nil { throw ValidationError("--cert-password-file needs --cert") }
        try cert?.validate()
        if let cert, cert.isToken {
            if key != nil { throw ValidationError("--key does not apply to a pkcs11: --cert; the key is on the token") }
        } else if pkcs11Module != nil {
            throw ValidationError("--pkcs11-module needs a pkcs11: URI as --cert")
        }
        if cert == nil, revocationCheck != nil { throw ValidationError("--revocation-check needs --cert") }
        if cert != nil, method != nil {
            throw ValidationError("--method applies to the QR, web and browser-certificate logins, not to --cert")
        }
    }
}
