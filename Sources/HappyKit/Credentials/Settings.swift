import FoundationEssentials

/// `settings.json` (PROTOCOL §3). We own `machineId`; every other key is kept exactly as found, in order.
public struct Settings: Sendable, Equatable {
    public private(set) var json: JSONValue

    public init(json: JSONValue = .object([])) { self.json = json }

    public var machineId: String? {
        get { json["machineId"]?.stringValue }
        set { json.set("machineId", newValue.map { .string($0) }) }
    }

    /// What the TypeScript CLI reads for an absent file, so what a settings.json we create starts from: writing it
    /// with a machine id gives exactly `JSON.stringify({schemaVersion: 2, onboardingCompleted: false, machineId},
    /// null, 2)`, byte for byte (PROTOCOL §3).
    public static let typeScriptDefaults = Settings(
        json: .object([
            ("schemaVersion", .number("2")), ("onboardingCompleted", .bool(false)),
        ]))

    /// Reads `settings.json`; an absent file is `typeScriptDefaults`. A corrupt one is reported, never crashed on.
    public static func load(from home: HappyHome) throws -> Settings {
        guard let bytes = try home.read(home.settingsPath) else { return typeScriptDefaults }
        do {
            let json = try JSONParser.parse(bytes)
            guard case .object = json else {
                throw HappyError.fileProblem(path: home.settingsPath, reason: "is not a JSON object; fix or remove it")
            }
            return Settings(json: json)
        } catch let failure as JSONParser.Failure {
            throw HappyError.fileProblem(
                path: home.settingsPath,
                reason: "is not valid JSON (\(failure.message) at byte \(failure.offset)); fix it or run "
                    + "`happy auth login --force`")
        }
    }

    /// `JSON.stringify(settings, null, 2)`, as the TypeScript CLI writes it.
    public func serialized() -> [UInt8] { Array(json.formatted().utf8) }

    public func store(in home: HappyHome) throws {
        try home.ensureExists()
        try AtomicFile.write(serialized(), to: home.settingsPath)
    }

    /// True when no key but `machineId` is left, or exactly what a file we create holds besides it (which says no
    /// more than an absent file); then logout may remove the file.
    var isEmptyWithoutMachineId: Bool {
        guard case .object(let pairs) = json else { return true }
        let rest = JSONValue.object(pairs.filter { $0.0 != "machineId" })
        return rest == .object([]) || rest == Self.typeScriptDefaults.json
    }
}
