/// Replies of the account and machine endpoints the online check and `logout --deregister` use (PROTOCOL §7), with
/// happy-server's JSON names. Only what `happy` shows is read; every field is optional and a field of an unexpected
/// type is ignored rather than fatal: the check is about whether the token is accepted, not about the profile.

/// `GET /v1/account/profile` → `{"id", "firstName", "lastName", "username", "github": {"login", …} | null, …}`.
public struct ProfileReply: WireReply {
    public var id: String?
    public var firstName: String?
    public var lastName: String?
    public var username: String?
    /// `github.login`, when the account is connected to GitHub.
    public var githubLogin: String?

    public init(json: JSONValue) throws(WireShapeError) {
        id = json["id"]?.stringValue
        firstName = json["firstName"]?.stringValue
        lastName = json["lastName"]?.stringValue
        username = json["username"]?.stringValue
        githubLogin = json["github"]?["login"]?.stringValue
    }

    /// "Ada Lovelace (@ada)", "@ada", "Ada", or "account 42", cut and escaped for the terminal; nil when the profile
    /// names nothing at all.
    public var identityLine: String? {
        let login = (githubLogin ?? username).flatMap { $0.isEmpty ? nil : "@" + $0 }
        let text =
            switch (displayName, login) {
            case (let name?, let login?) where name != username: "\(name) (\(login))"
            case (let name?, _): name
            case (nil, let login?): login
            case (nil, nil): id.map { "account \($0)" }
            }
        return text.map { TerminalText.excerpt($0, limit: 80) }
    }

    /// "First Last", else the username; nil when the profile names nobody.
    public var displayName: String? {
        let name = [firstName, lastName].compactMap { $0?.trimmingWhitespace() }.filter { !$0.isEmpty }
            .joined(separator: " ")
        if !name.isEmpty { return name }
        if let username, !username.isEmpty { return username }
        return nil
    }
}

/// `GET /v1/machines/:id` → `{"machine": {"id", "metadata", "active", …}}`. Any JSON object counts: a 200 is what
/// says the machine is registered.
public struct MachineReply: WireReply {
    public var active: Bool?

    public init(json: JSONValue) throws(WireShapeError) {
        active = json["machine"]?["active"]?.boolValue
    }
}
