import ArgumentParser
import HappyKit

extension LoginMethod: ExpressibleByArgument {}
extension RevocationCheck: ExpressibleByArgument {}

/// `--server` as ArgumentParser reads it: parsed once, here, into a `ServerURL` or the reason it is not one. The
/// reason is reported by `validate()` (exit 64) without echoing the value, which may carry a password — ArgumentParser's
/// own "The value '…' is invalid" would print it. An empty value counts as absent (PROTOCOL §3).
struct ServerArgument: ExpressibleByArgument, Sendable {
    /// nil for an empty value.
    let parsed: Result<ServerURL, HappyError>?

    init?(argument: String) {
        guard !argument.isEmpty else {
            parsed = nil
            return
        }
        parsed = Result { () throws(HappyError) in try ServerURL(validating: argument, source: "--server") }
    }

    /// The URL, once `validate()` passed.
    var url: ServerURL? { try? parsed?.get() }

    func validate() throws {
        if case .failure(let error)? = parsed { throw ValidationError(error.reason) }
    }
}

/// `--cert` as ArgumentParser reads it: a certificate file, or a `pkcs11:` URI parsed once here (a `pin-value` in
/// it is refused without echoing the URI, which would print the PIN).
struct CertificateArgument: ExpressibleByArgument, Sendable {
    enum Value: Sendable {
        case file(String)
        case token(PKCS11URI)
    }

    let parsed: Result<Value, HappyError>

    init?(argument: String) {
        guard PKCS11URI.isURI(argument) else {
            parsed = .success(.file(argument))
            return
        }
        do { parsed = .success(.token(try PKCS11URI(argument))) } catch let error as HappyError {
            parsed = .failure(error)
        } catch {
            parsed = .failure(.usage("--cert: \(error)"))
        }
    }

    var isToken: Bool {
        if case .success(.token) = parsed { return true }
        return false
    }

    func validate() throws {
        if case .failure(let error) = parsed { throw ValidationError(error.reason) }
    }

    /// The login's certificate, once `validate()` passed.
    func source(key: String?, module: String?) -> CertificateSource? {
        switch parsed {
        case .success(.file(let path)): .file(certificate: path, key: key)
        case .success(.token(let uri)): .token(uri, module: module)
        case .failure: nil
        }
    }
}
