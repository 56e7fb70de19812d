import FoundationEssentials

/// The browser hand-off's one deadline (`--timeout`, PROTOCOL §6): the wait for the browser and the claim request both
/// end when it passes, whatever the listener's clients or the server do. Running out is `approvalTimedOut` (75).
struct HandoffDeadline: Sendable {
    let deadline: Deadline

    init(seconds: Int, timing: Timing) {
        deadline = Deadline(end: timing.elapsed() + .seconds(seconds), timing: timing, seconds: seconds)
    }

    /// The listener's one callback. `close()` (success, Ctrl-C, the deadline) ends the wait at once.
    func waitForCallback(_ listener: LoopbackListener) async throws -> HandoffCallback {
        let left = try deadline.remaining()
        return try await race(left) { try await listener.waitForCallback(within: left) }
    }

    /// `body`, given what is left of the deadline, raced against the deadline itself: it never outlasts it.
    func bounded<T: Sendable>(_ body: @escaping @Sendable (Duration) async throws -> T) async throws -> T {
        let left = try deadline.remaining()
        return try await race(left) { try await body(left) }
    }

    private func race<T: Sendable>(_ left: Duration, _ body: @escaping @Sendable () async throws -> T) async throws
        -> T
    {
        let timing = deadline.timing
        let first = try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await timing.sleep(left)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let first else { throw HappyError.approvalTimedOut(seconds: deadline.seconds) }
        return first
    }
}

/// `GET /v1/account/profile` (PROTOCOL §7, "Online check"): the names the server's account profile may carry.
struct AccountProfileReply: WireReply {
    var id: String?
    var firstName: String?
    var lastName: String?
    var username: String?
    var githubLogin: String?

    init(json: JSONValue) throws(WireShapeError) {
        id = json["id"]?.stringValue
        firstName = try json.optionalString("firstName")
        lastName = try json.optionalString("lastName")
        username = try json.optionalString("username")
        githubLogin = json["github"]?["login"]?.stringValue
    }

    /// "Ada Lovelace (@ada)", "@ada", "Ada", or "account 42"; escaped for the terminal. Nil when it names nothing.
    var displayName: String? {
        let name = [firstName, lastName].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: " ")
        let login = (githubLogin ?? username).flatMap { $0.isEmpty ? nil : "@" + $0 }
        let text =
            switch (name.isEmpty ? nil : name, login) {
            case (let name?, let login?): "\(name) (\(login))"
            case (let name?, nil): name
            case (nil, let login?): login
            case (nil, nil): id.map { "account \($0)" }
            }
        return text.map { TerminalText.excerpt($0, limit: 80) }
    }

    /// Who the server logged this machine in as, asked with the new token within `timeout`; a line saying the lookup
    /// failed otherwise (the login itself stands).
    static func lookUp(token: String, api: HappyAPI, timeout: Duration) async -> Result<String, HappyError> {
        do {
            let reply = try await api.send(
                "GET", "/v1/account/profile", body: nil, token: token, as: AccountProfileReply.self,
                timeout: timeout)
            guard reply.status == 200, let who = reply.value?.displayName else {
                return .failure(.badResponse("GET /v1/account/profile answered HTTP \(reply.status)"))
            }
            return .success(who)
        } catch let error as HappyError {
            return .failure(error)
        } catch {
            return .failure(.badResponse("GET /v1/account/profile failed"))
        }
    }
}
