import AsyncHTTPClient
import FoundationEssentials
import Glibc
import NIOCore
import NIOSSL

/// Turns NIO / AsyncHTTPClient / TLS errors into what the user experiences. Raw library errors never reach users.
enum TransportErrorMapping {
    /// `hiding`: the request's header values (a bearer token among them); library error texts can quote them, so
    /// they are cut out of anything shown.
    static func map(_ error: any Error, server: String, hiding secrets: [String] = []) -> HappyError {
        var text = String(describing: error)
        for secret in secrets where secret.count >= 4 { text = text.replacing(secret, with: "<redacted>") }
        let lower = text.lowercased()
        if lower.contains("unsupported_protocol") || lower.contains("wrong_version_number")
            || lower.contains("protocol_version") || lower.contains("no_protocols_available")
        {
            return .serverUnreachable(
                server: server, reason: "the server does not offer TLS 1.2 or newer, which happy requires")
        }
        if lower.contains("eof during handshake") || lower.contains("uncleanshutdown")
            || (lower.contains("handshake") && lower.contains("closed"))
        {
            return .serverUnreachable(
                server: server, reason: "the server accepted the connection, then closed it during the TLS handshake")
        }
        // The server (or its proxy) rejected our client certificate: a TLS alert during the handshake.
        let refusedMarkers = [
            "alert_certificate_required", "alert_bad_certificate", "sslv3_alert_bad_certificate",
            "tlsv13_alert_certificate_required", "alert_unknown_ca", "tlsv1_alert_unknown_ca",
            "certificate_required", "alert_handshake_failure", "sslv3_alert_handshake_failure",
            "alert_access_denied", "alert_certificate_unknown", "alert_certificate_expired",
            "certificate_expired", "certificate_revoked", "alert_decrypt_error",
        ]
        if refusedMarkers.contains(where: lower.contains) && !lower.contains("certificate_verify_failed") {
            return .refused(
                "the server did not accept this certificate during the TLS handshake "
                    + "(\(shortReason(text))). Ask your IT team whether it is enrolled for \(server).")
        }
        if lower.contains("certificate_verify_failed") || lower.contains("failedtovalidatehostname")
            || lower.contains("unable to get local issuer") || lower.contains("self signed")
            || lower.contains("self-signed") || lower.contains("hostname")
        {
            return .untrustedServer(server: server, reason: shortReason(text))
        }
        if let http = error as? HTTPClientError {
            switch http {
            case .connectTimeout: return .serverUnreachable(server: server, reason: "connection timed out")
            case .readTimeout, .deadlineExceeded: return .serverUnreachable(server: server, reason: "no answer in time")
            case .remoteConnectionClosed: return .serverUnreachable(server: server, reason: "the connection was closed")
            case .invalidURL, .emptyHost, .emptyScheme:
                return .usage("\(server) is not a valid http(s) URL")
            case .proxyAuthenticationRequired:
                return .serverUnreachable(server: server, reason: "the proxy asks for credentials")
            case .invalidProxyResponse:
                return .serverUnreachable(server: server, reason: "the proxy refused the connection")
            default: break
            }
        }
        // With TLS, a reset before any answer is the server giving up in the handshake (a close with unread data
        // in its buffer is a reset, not an end of file).
        if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE, server.hasPrefix("https://")
        {
            return .serverUnreachable(
                server: server,
                reason: "the server accepted the connection, then closed it during the TLS handshake (connection reset)"
            )
        }
        if let io = error as? IOError {
            return .serverUnreachable(server: server, reason: String(cString: strerror(io.errnoCode)).lowercased())
        }
        if lower.contains("connection refused") || lower.contains("econnrefused") {
            return .serverUnreachable(server: server, reason: "connection refused")
        }
        if lower.contains("reset") { return .serverUnreachable(server: server, reason: "connection reset") }
        if lower.contains("dns") || lower.contains("name or service not known") || lower.contains("nodename") {
            return .serverUnreachable(server: server, reason: "the host name could not be resolved")
        }
        if error is NIOSSLError {
            return .serverUnreachable(server: server, reason: "TLS failed (\(shortReason(text)))")
        }
        return .serverUnreachable(server: server, reason: shortReason(text))
    }

    /// The first line of an error description, capped.
    static func shortReason(_ text: String) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? text
        return TerminalText.excerpt(line, limit: 160)
    }
}
