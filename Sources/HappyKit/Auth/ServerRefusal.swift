/// Happier's account-level refusals of a certificate login (PROTOCOL §2, issue 16), one line each, exit 77. The
/// certificate flows map the server's answers onto these; nothing is written when they are thrown.
enum ServerRefusal {
    /// `403 {"error":"e2ee-required"}` on `POST /v1/auth/mtls` (or `error=e2ee-required` on the hand-off callback).
    static func e2eeRequired() -> HappyError {
        .refused(
            "this account requires end-to-end encryption (e2ee-required), so certificate (keyless) login cannot be "
                + "used for it; log in with `happy auth login --method mobile` (QR code) instead")
    }

    /// `account-disabled` from the hand-off callback (`error=account-disabled`), the claim or `POST /v1/auth/mtls`.
    static func accountDisabled(server: ServerURL) -> HappyError {
        .refused(
            "the account is disabled on \(server.string) (account-disabled); ask your Happy administrator to enable it again"
        )
    }

}
