/// How the owner approves this terminal: the Happy app (QR code), the web app, or a certificate held by the browser
/// (the mTLS browser hand-off, PROTOCOL §6).
public enum LoginMethod: String, Sendable, CaseIterable {
    case mobile, web, certificate
}

/// Options of `happy auth login` that the device-keypair flow uses.
public struct DeviceLoginOptions: Sendable {
    /// The longest `--timeout` (a week); larger values are a usage error, never an overflow.
    public static let maximumTimeoutSeconds = 604_800

    public var server: String
    /// Nil: ask when stdin and stdout are terminals, else mobile (PROTOCOL §4).
    public var method: LoginMethod?
    public var force: Bool
    public var openBrowser: Bool
    public var timeoutSeconds: Int
    public var caFile: String?
    public var qrInverted: Bool
    /// Poll interval (the reference polls once a second).
    public var pollInterval: Duration

    public init(
        server: String, method: LoginMethod? = nil, force: Bool = false, openBrowser: Bool = true,
        timeoutSeconds: Int = 300, caFile: String? = nil, qrInverted: Bool = false,
        pollInterval: Duration = .seconds(1)
    ) {
        self.server = server
        self.method = method
        self.force = force
        self.openBrowser = openBrowser
        self.timeoutSeconds = timeoutSeconds
        self.caFile = caFile
        self.qrInverted = qrInverted
        self.pollInterval = pollInterval
    }
}
