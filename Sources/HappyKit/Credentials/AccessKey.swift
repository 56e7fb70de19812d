import FoundationEssentials

/// `access.key` (PROTOCOL §3), in the TypeScript CLI's formats: `JSON.stringify(…, null, 2)`, no final newline.
public enum AccessKey: Sendable {
    /// `{"secret": b64(32), "token": …}`
    case legacy(secret: SecretBytes, token: String)
    /// `{"encryption": {"publicKey": b64(32), "machineKey": b64(32)}, "token": …}`
    case dataKey(publicKey: [UInt8], machineKey: SecretBytes, token: String)
    /// `{"token": …, …metadata}` — an mTLS login (ours); never `secret` or `encryption`.
    case keyless(token: String, metadata: CertificateLoginMetadata?)

    public var token: String {
        switch self {
        case .legacy(_, let t), .dataKey(_, _, let t), .keyless(let t, _): t
        }
    }

    public var kindName: String {
        switch self {
        case .legacy: "legacy"
        case .dataKey: "dataKey"
        case .keyless: "keyless"
        }
    }

    /// Parses the file. Throws `.fileProblem` naming what is wrong; never prints values. The secret and machine key
    /// go from the bytes straight into `SecretBytes` (`MaskedSecrets`): the JSON parser sees placeholders instead,
    /// and the working copy of the bytes is wiped; wiping `bytes` is the caller's.
    public static func parse(_ bytes: [UInt8], path: String) throws -> AccessKey {
        func bad(_ why: String) -> HappyError {
            .fileProblem(path: path, reason: "\(why); run `happy auth login --force` to replace it")
        }
        var masked = bytes
        defer { Sodium.wipe(&masked) }
        let secrets = MaskedSecrets(masking: &masked)
        // A 32-byte secret from its base64 text: the masked bytes, else decoded from the text itself.
        func secret32(_ text: String) -> SecretBytes? {
            var text = text
            let secret = secrets.secret(for: text) ?? text.withUTF8 { SecretBytes.decodingBase64(.init($0)) }
            return secret?.count == 32 ? secret : nil
        }
        let json: JSONValue
        do { json = try JSONParser.parse(masked) } catch { throw bad("is not valid JSON (\(error.message))") }
        guard case .object = json else { throw bad("is not a JSON object") }
        guard let token = json["token"]?.stringValue, !token.isEmpty else { throw bad("has no token") }
        guard BearerToken.isAcceptable(token) else { throw bad("has \(BearerToken.problem(token))") }
        if let secretText = json["secret"]?.stringValue {
            guard let secret = secret32(secretText) else { throw bad("has a secret that is not 32 bytes of base64") }
            return .legacy(secret: secret, token: token)
        }
        if let enc = json["encryption"] {
            guard let pkText = enc["publicKey"]?.stringValue, let pk = Base64.decode(pkText), pk.count == 32 else {
                throw bad("has an encryption.publicKey that is not 32 bytes of base64")
            }
            guard let mkText = enc["machineKey"]?.stringValue, let mk = secret32(mkText) else {
                throw bad("has an encryption.machineKey that is not 32 bytes of base64")
            }
            return .dataKey(publicKey: pk, machineKey: mk, token: token)
        }
        return .keyless(token: token, metadata: CertificateLoginMetadata(json: json))
    }

    /// The file's bytes, built inside locked memory (`SecretText`): the JSON around the secret or machine key is
    /// copied in and the key is written as base64 straight from its `SecretBytes`, so it never passes through a
    /// `String`, `Array` or `JSONValue`. Byte for byte what `JSON.stringify(…, null, 2)` prints (AccessKeyTests).
    public func serialized() throws -> SecretBytes {
        var text = SecretText()
        switch self {
        case .legacy(let secret, let token):
            text.append("{\n  \"secret\": \"")
            text.appendBase64(of: secret)
            text.append("\",\n  \"token\": \(JSONValue.string(token).formatted())\n}")
        case .dataKey(let pk, let mk, let token):
            text.append("{\n  \"encryption\": {\n    \"publicKey\": \"\(Base64.encode(pk))\",\n    \"machineKey\": \"")
            text.appendBase64(of: mk)
            text.append("\"\n  },\n  \"token\": \(JSONValue.string(token).formatted())\n}")
        case .keyless(let token, let metadata):
            text.append(JSONValue.object([("token", .string(token))] + (metadata?.jsonPairs ?? [])).formatted())
        }
        return try text.bytes()
    }

    /// Reads `access.key`; nil when absent.
    public static func load(from home: HappyHome) throws -> AccessKey? {
        guard var bytes = try home.read(home.accessKeyPath) else { return nil }
        defer { Sodium.wipe(&bytes) }
        return try parse(bytes, path: home.accessKeyPath)
    }

    /// Writes `access.key` atomically with mode 0600, from the locked bytes of `serialized()`.
    public func store(in home: HappyHome) throws {
        try home.ensureExists()
        try AtomicFile.write(try serialized(), to: home.accessKeyPath)
    }
}

/// What an mTLS login stores beside its token (ours), so `status` can show it without the certificate.
public struct CertificateLoginMetadata: Sendable, Equatable {
    public var identity: String
    public var source: String
    public var issuer: String
    public var fingerprint: String
    public var notAfter: String  // ISO 8601 UTC
    /// The `pkcs11:` URI of a token login (never a PIN); nil for certificate files.
    public var tokenURI: String?
    /// The absolute path of a TPM login's key file (`TSS2 PRIVATE KEY`), never its contents; nil otherwise.
    public var tpmKeyPath: String?

    public init(
        identity: String, source: String, issuer: String, fingerprint: String, notAfter: String,
        tokenURI: String? = nil, tpmKeyPath: String? = nil
    ) {
        self.tokenURI = tokenURI
        self.tpmKeyPath = tpmKeyPath
        self.identity = identity
        self.source = source
        self.issuer = issuer
        self.fingerprint = fingerprint
        self.notAfter = notAfter
    }

    init?(json: JSONValue) {
        guard let cert = json["certificate"], let identity = cert["identity"]?.stringValue else { return nil }
        self.identity = identity
        source = cert["source"]?.stringValue ?? ""
        issuer = cert["issuer"]?.stringValue ?? ""
        fingerprint = cert["fingerprint"]?.stringValue ?? ""
        notAfter = cert["notAfter"]?.stringValue ?? ""
        tokenURI = cert["uri"]?.stringValue
        tpmKeyPath = cert["tpmKey"]?.stringValue
    }

    var jsonPairs: [(String, JSONValue)] { [("certificate", .object(fields()))] }

    /// The `certificate` object's fields in their stored order, `inserted` after `notAfter` (status adds `daysLeft`
    /// there).
    func fields(insertingAfterNotAfter inserted: [(String, JSONValue)] = []) -> [(String, JSONValue)] {
        [
            ("identity", .string(identity)), ("source", .string(source)), ("issuer", .string(issuer)),
            ("fingerprint", .string(fingerprint)), ("notAfter", .string(notAfter)),
        ] + inserted + (tokenURI.map { [("uri", JSONValue.string($0))] } ?? [])
            + (tpmKeyPath.map { [("tpmKey", JSONValue.string($0))] } ?? [])
    }
}
