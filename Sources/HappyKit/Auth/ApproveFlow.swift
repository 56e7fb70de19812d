import FoundationEssentials

/// `happy auth approve <happy://terminal?…>` (PROTOCOL §1, the approving side, ours): from a logged-in machine,
/// answer another terminal's request with this machine's stored keys, as the app would (PROTOCOL §5): v2
/// (`0x00 || content public key`) to a terminal that supports it — the stored data key, or the content key derived
/// from a legacy master secret — and v1 (the master secret) only to a terminal without v2, from a legacy secret.
public struct ApproveFlow: Sendable {
    let server: ServerURL
    let caFile: String?
    let context: HappyContext

    public init(server: ServerURL, caFile: String?, context: HappyContext) {
        self.server = server
        self.caFile = caFile
        self.context = context
    }

    /// The terminal's public key from its approval URL, which must be exactly `happy://terminal?` followed by the
    /// 43 base64url characters of a 32-byte key (PROTOCOL §1.3): no other form, spacing, padding or extra part.
    public static func terminalKey(from text: String) throws -> [UInt8] {
        let prefix = "happy://terminal?"
        guard text.hasPrefix(prefix) else {
            throw HappyError.usage(
                "expected the happy://terminal?… URL the other terminal shows, "
                    + "got \(TerminalText.excerpt(text, limit: 40))")
        }
        let encoded = text.dropFirst(prefix.count)
        let alphabet = { (b: UInt8) in
            (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) || b == 0x2D
                || b == 0x5F
        }
        guard encoded.utf8.count == 43, encoded.utf8.allSatisfy(alphabet),
            let key = Base64.decodeURL(String(encoded)), key.count == 32
        else {
            throw HappyError.usage(
                "the approval URL must end in the 43 base64url characters of a 32-byte public key; "
                    + "copy the whole happy://terminal?… line")
        }
        return key
    }

    public func run(url: String) async throws {
        let terminalKey = try Self.terminalKey(from: url)
        guard let credentials = try AccessKey.load(from: context.home) else {
            throw HappyError.refused(
                "this machine is not logged in, so it has no keys to approve with; run `happy auth login` first")
        }
        if case .keyless = credentials {
            throw HappyError.refused(
                "this machine logged in with a certificate (keyless), so it holds no account keys "
                    + "to hand to another terminal; approve it from the Happy app instead")
        }
        let version = try await context.withTransport(TransportOptions(caFile: caFile)) { transport in
            let api = HappyAPI(server: server, transport: transport)

            let status = try await api.requestStatus(publicKey: terminalKey)
            guard status.status == 200, let state = status.value else {
                throw HappyError.badResponse("GET /v1/auth/request/status answered HTTP \(status.status)")
            }
            switch state.status {
            case "pending": break
            case "not_found":
                throw HappyError.failed(
                    "no pending login for that terminal on \(server); it may have timed out or used "
                        + "another server. Start `happy auth login` there again and use the new URL")
            case "authorized":
                throw HappyError.failed("that terminal is already approved; nothing to do")
            default:
                throw HappyError.badResponse(
                    "an unknown request status \"\(TerminalText.excerpt(state.status, limit: 40))\"")
            }

            let (plaintext, version) = try answer(for: credentials, supportsV2: state.supportsV2 ?? false)
            let bundle = try AuthBundle.seal(plaintext, for: terminalKey)
            let reply = try await api.respond(publicKey: terminalKey, bundle: bundle, token: credentials.token)
            switch reply.status {
            case 200..<300: break
            case 404:
                throw HappyError.failed("the server no longer has that request (it expired or was answered meanwhile)")
            case 401, 403:
                throw HappyError.refused(
                    "the server did not accept this machine's token (HTTP \(reply.status)); "
                        + "run `happy auth login --force` here, then approve again")
            default: throw HappyError.badResponse("POST /v1/auth/response answered HTTP \(reply.status)")
            }
            return version
        }
        context.console.out(
            "\(context.console.checkMark) Approved the terminal (\(version) answer). It will finish logging in "
                + "within a few seconds.")
    }

    private func answer(for credentials: AccessKey, supportsV2: Bool) throws -> (SecretBytes, String) {
        switch credentials {
        case .dataKey(let publicKey, _, _):
            guard supportsV2 else {
                throw HappyError.refused(
                    "that terminal only understands v1 answers, which carry the account master secret; this machine "
                        + "holds only a data key. Approve it from the Happy app, or update its happy")
            }
            return (try AuthBundle.dataKeyPlaintext(contentPublicKey: publicKey), "v2")
        case .legacy(let secret, _):
            // As the app does (PROTOCOL §5): a v2 terminal gets the content key derived from the master secret and
            // never sees the secret itself; only a terminal without v2 gets the secret (v1).
            guard supportsV2 else { return (try AuthBundle.legacyPlaintext(secret: secret), "v1") }
            let contentPublicKey = try KeyTree.contentPublicKey(masterSecret: secret)
            return (try AuthBundle.dataKeyPlaintext(contentPublicKey: contentPublicKey), "v2")
        case .keyless:
            throw HappyError.refused("a keyless login cannot approve terminals")
        }
    }
}
