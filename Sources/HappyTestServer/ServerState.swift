import HappyKit

/// Everything the test server remembers, in memory only: accounts, bearer tokens, terminal auth requests
/// and the injected faults.
actor ServerState {
    /// A terminal auth request (PROTOCOL §1.2), keyed by the standard base64 of its 32-byte public key.
    struct TerminalRequest {
        let publicKey: String
        let supportsV2: Bool
        let sequence: Int
        var response: String?
        var responseAccount: Int?
        var polls = 0
        var lastClientHeader: String?
        var isAuthorized: Bool { response != nil && responseAccount != nil }
    }

    /// What the next `POST /v1/auth/request` must do instead of answering.
    enum PollFault: Equatable {
        case fail(status: Int, retryAfter: Int?)
        case drop
    }

    struct Faults: Equatable {
        var failPolls = 0
        var failStatus = 503
        var retryAfter: Int?
        var dropPolls = 0
        /// Replaces the token of an authorized answer (a hostile server's token), when set.
        var authorizedToken: String?
    }

    enum PollAnswer {
        case requested
        case authorized(token: String, response: String)
    }

    private var requests: [String: TerminalRequest] = [:]
    private var accountsByIdentity: [String: Int] = [:]
    private var tokens: [String: Int] = [:]
    private var nextAccount = 1
    private var nextSequence = 1
    private var faults = Faults()

    // MARK: Accounts and tokens

    /// The account for `identity` ("ed25519:<b64>" or "mtls:<id>"), created on first use.
    func upsertAccount(identity: String) -> Int {
        if let id = accountsByIdentity[identity] { return id }
        let id = nextAccount
        nextAccount += 1
        accountsByIdentity[identity] = id
        return id
    }

    func hasAccount(identity: String) -> Bool { accountsByIdentity[identity] != nil }

    /// The identity an account was made for ("mtls:<id>", …), nil for an unknown account.
    func identity(ofAccount account: Int) -> String? { accountsByIdentity.first { $0.value == account }?.key }

    /// Every account identity with `prefix`, the prefix removed, sorted.
    func identities(prefix: String) -> [String] {
        accountsByIdentity.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }.sorted()
    }

    /// A fresh opaque bearer token (base64url of 32 random bytes) for `account`.
    func mintToken(for account: Int) -> String {
        let token = Base64.encodeURL(SigningKeyPair.randomChallenge(count: 32))
        tokens[token] = account
        return token
    }

    func account(forToken token: String) -> Int? { tokens[token] }

    /// Forgets `token` (a server-side revoke); false when it was unknown.
    func revoke(token: String) -> Bool { tokens.removeValue(forKey: token) != nil }

    func accountId(forIdentity identity: String) -> Int? { accountsByIdentity[identity] }

    // MARK: Browser hand-off claim codes (PROTOCOL §2)

    private var claimCodes: [String: (account: Int, expires: ContinuousClock.Instant)] = [:]

    /// A fresh single-use code for `account`, valid for `ttl`.
    func makeClaimCode(for account: Int, ttl: Duration) -> String {
        let code = Base64.encodeURL(SigningKeyPair.randomChallenge(count: 24))
        claimCodes[code] = (account, ContinuousClock.now + ttl)
        return code
    }

    /// Consumes `code`: its account when it exists and has not expired, else nil. Either way it is gone afterwards.
    func consumeClaimCode(_ code: String) -> Int? {
        guard let entry = claimCodes.removeValue(forKey: code), ContinuousClock.now < entry.expires else { return nil }
        return entry.account
    }

    // MARK: Terminal auth requests

    /// Upserts like happy-server: the first call fixes `supportsV2`; later calls only poll.
    func poll(publicKey: String, supportsV2: Bool, clientHeader: String?) -> PollAnswer {
        var request =
            requests[publicKey]
            ?? {
                defer { nextSequence += 1 }
                return TerminalRequest(publicKey: publicKey, supportsV2: supportsV2, sequence: nextSequence)
            }()
        request.polls += 1
        request.lastClientHeader = clientHeader
        requests[publicKey] = request
        guard let response = request.response, let account = request.responseAccount else { return .requested }
        // happy-server mints a new token on every authorized poll.
        return .authorized(token: mintToken(for: account), response: response)
    }

    func request(publicKey: String) -> TerminalRequest? { requests[publicKey] }

    /// Requests the server let expire (Happier answers their polls 410), by public key.
    private var expired: Set<String> = []

    /// Expires the pending request of `publicKey`, or every pending request when nil; returns how many.
    func expire(publicKey: String?) -> Int {
        let keys = requests.values.filter { !$0.isAuthorized && (publicKey == nil || $0.publicKey == publicKey) }
        expired.formUnion(keys.map(\.publicKey))
        return keys.count
    }

    func isExpired(publicKey: String) -> Bool { expired.contains(publicKey) }

    /// Stores the first answer only, as happy-server does. False when there is no such request.
    func answer(publicKey: String, response: String, account: Int) -> Bool {
        guard var request = requests[publicKey] else { return false }
        if request.response == nil {
            request.response = response
            request.responseAccount = account
            requests[publicKey] = request
        }
        return true
    }

    func allRequests() -> [TerminalRequest] { requests.values.sorted { $0.sequence < $1.sequence } }

    // MARK: Faults

    func setFaults(_ newFaults: Faults) { faults = newFaults }

    func currentFaults() -> Faults { faults }

    /// The token an authorized answer carries: the injected one, else the real one.
    func tokenToSend(_ real: String) -> String { faults.authorizedToken ?? real }

    /// Consumes one fault: first the failures, then the drops.
    func takePollFault() -> PollFault? {
        if faults.failPolls > 0 {
            faults.failPolls -= 1
            return .fail(status: faults.failStatus, retryAfter: faults.retryAfter)
        }
        if faults.dropPolls > 0 {
            faults.dropPolls -= 1
            return .drop
        }
        return nil
    }
}
