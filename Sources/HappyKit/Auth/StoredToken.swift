/// `happy auth token` (PROTOCOL §7): the bearer token of this home's login, for scripts
/// (`curl -H "Authorization: Bearer $(happy auth token)"`). Works for every kind of login, keyless ones included.
public enum StoredToken {
    /// The stored token. Logged out is `.failed` (exit 1); an unreadable or damaged `access.key` is a `.fileProblem`
    /// naming the file (exit 1). Reads the home only.
    public static func read(from home: HappyHome) throws -> String {
        guard let key = try AccessKey.load(from: home) else {
            throw HappyError.failed("not logged in, so there is no token; run `happy auth login` first")
        }
        return key.token
    }
}
