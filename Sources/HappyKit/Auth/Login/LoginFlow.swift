/// One way to log in (STYLE §9): a small strategy that turns the login's context and its one deadline into
/// credentials. Everything the methods share — the home checks, `--force`, the already-logged-in answer, the
/// deadline, storing, the success line — is `LoginFlow`'s. A new method is one new file conforming to this.
protocol LoginStrategy: Sendable {
    /// What `prepare` found (a loaded certificate), handed to `credentials`.
    associatedtype Prepared: Sendable = Void

    /// Checks and previews that must pass before `--force` clears the old login, so a certificate that cannot be
    /// used leaves it in place. Nothing is sent to the Happy server here.
    func prepare(_ login: LoginSession) async throws -> Prepared

    /// The credentials, within `login.deadline`. Writes nothing: the frame stores what this returns.
    func credentials(_ prepared: Prepared, _ login: LoginSession) async throws -> LoginCredentials

    /// Releases what `prepare` holds (a token session, a TPM context) once the login ended, whatever the outcome.
    func finish(_ prepared: Prepared)
}

extension LoginStrategy {
    func finish(_ prepared: Prepared) {}
}

extension LoginStrategy where Prepared == Void {
    func prepare(_ login: LoginSession) async throws {}
}

/// What a strategy works with: the context, the options, and the login's one deadline.
struct LoginSession: Sendable {
    let context: HappyContext
    let options: LoginOptions
    let deadline: Deadline

    var console: Console { context.console }

    /// The API on a transport of its own (presenting `clientIdentity` when given), shut down when `body` returns.
    func withAPI<T: Sendable>(
        clientIdentity: ClientIdentity? = nil, _ body: (HappyAPI) async throws -> T
    ) async throws -> T {
        let transport = TransportOptions(caFile: options.caFile, clientIdentity: clientIdentity)
        return try await context.withTransport(transport) { transport in
            try await body(HappyAPI(server: options.server, transport: transport))
        }
    }
}

/// What a strategy hands the frame to store.
struct LoginCredentials: Sendable {
    let accessKey: AccessKey
    /// How the success line describes the login: "(legacy credentials)", "with the device certificate as … (keyless)".
    let summary: String
    /// Who the server says this machine is logged in as, when the method asked (`GET /v1/account/profile`).
    var account: Result<String, HappyError>? = nil
}

/// `happy auth login`, whatever the method (PROTOCOL §1, §2, §6): the one frame every login runs in.
///
/// Already logged in (and no `--force`): says so and returns. Otherwise: ssh-style warnings about the home; the home
/// must take the credentials before anything is changed or the server is asked anything (a full, read-only or
/// foreign home fails here with the old login untouched); the method is resolved once (`--cert`, `--method`, the
/// picker with `/v1/features`); the strategy prepares (local checks); `--force` clears the old login; the strategy
/// gets credentials within one deadline; they are stored whole or not at all; one success line. A home made only for
/// this login is removed again when the login fails.
public struct LoginFlow: Sendable {
    public let options: LoginOptions
    let context: HappyContext

    public init(options: LoginOptions, context: HappyContext) {
        self.options = options
        self.context = context
    }

    /// Runs the whole login; returns normally on success or when already logged in.
    public func run() async throws {
        if !options.force, try showAlreadyLoggedIn() { return }
        let home = context.home
        for warning in home.permissionWarnings() { context.console.warn(warning) }
        let createdHome = try home.checkWritable()
        do {
            try await run(try await strategy())
        } catch {
            if createdHome { home.removeIfEmpty() }
            throw error
        }
    }

    private func run<Strategy: LoginStrategy>(_ strategy: Strategy) async throws {
        let login = LoginSession(
            context: context, options: options, deadline: Deadline(lasting: options.timeout, timing: context.timing))
        let prepared = try await strategy.prepare(login)
        defer { strategy.finish(prepared) }
        if options.force { try await LogoutFlow(context: context).clearForRelogin() }
        let credentials = try await strategy.credentials(prepared, login)
        let machineId = try CredentialsStore(home: context.home).store(
            credentials.accessKey, console: context.console, signals: context.signals)
        let console = context.console
        console.out("\(console.checkMark) Logged in \(credentials.summary). Machine ID: \(machineId)")
        switch credentials.account {
        case .success(let who)?: console.out("The server logged this machine in as \(who).")
        case .failure(let error)?: console.err("Could not ask the server which account this is (\(error.userMessage)).")
        case nil: break
        }
        console.err("Credentials saved in \(context.home.path). Check them any time with `happy auth status`.")
    }

    /// The method, resolved once: `--cert` (a file or a token), else `--method`, else the picker on a terminal
    /// (offering the browser certificate when `/v1/features` advertises mTLS), else mobile.
    private func strategy() async throws -> any LoginStrategy {
        switch options.certificate {
        case .file(let certificate, let key)?: return CertificateFileLogin(certificatePath: certificate, keyPath: key)
        case .token(let uri, let module)?: return TokenKeyLogin(uri: uri, modulePath: module)
        case nil: break
        }
        switch try await MethodPicker.resolve(for: options, context: context) {
        case .mobile: return DeviceApproval(target: .mobile)
        case .web: return DeviceApproval(target: .web(try context.webappURL()))
        case .certificate: return BrowserHandoff()
        }
    }

    /// When credentials exist: prints "Already authenticated" with machine id and host and returns true. Otherwise
    /// makes sure `settings.json` is readable, so a login fails before any network traffic rather than after the
    /// owner approved. A corrupt file is an error that names `--force`.
    private func showAlreadyLoggedIn() throws -> Bool {
        let home = context.home
        guard try AccessKey.load(from: home) != nil else {
            _ = try Settings.load(from: home)
            return false
        }
        let settings = (try? Settings.load(from: home)) ?? Settings()
        let console = context.console
        console.out("\(console.checkMark) Already authenticated")
        console.out("  Machine ID: \(settings.machineId ?? "(none)")")
        console.out("  Host: \(context.hostName)")
        console.out("  Use 'happy auth login --force' to re-authenticate")
        return true
    }
}
