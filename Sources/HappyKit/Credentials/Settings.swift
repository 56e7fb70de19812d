import Foundation

/// `settings.json` (PROTOCOL §3). We own `machineId`; every other key is kept exactly as found, in order.
public struct Settings: Sendable, Equatable {
    public private(set) var json: JSONValue

    public init(json: JSONValue = .object([])) { self.json = json }

    public var machineId: String? {
        get { json["machineId"]?.stringValue }
        set { json.set("machineId", newValue.map { .string($0) }) }
    }

    /// Reads `settings.json`; an absent file is empty settings. A corrupt one is reported, never crashed on.
    public static func load(from home: HappyHome) throws -> Settings {
        guard let bytes = try home.read(home.settingsPath) else { return Settings() }
        do {
            let json = try JSONParser.parse(bytes)
            guard case .object = json else {
                throw HappyError.fileProblem(path: home.settingsPath, reason: "is not a JSON object; fix or remove it")
            }
            return Settings(json: json)
        } catch let failure as JSONParser.Failure {
            throw HappyError.fileProblem(
                path: home.settingsPath,
                reason: "is not valid JSON (\(failure.message) at byte \(failure.offset)); fix it or run `happy auth login --force`")
        }
    }

    /// `JSON.stringify(settings, null, 2)`, as the TypeScript CLI writes it.
    public func serialized() -> [UInt8] { Array(json.formatted().utf8) }

    public func store(in home: HappyHome) throws {
        try home.ensureExists()
        try AtomicFile.write(serialized(), to: home.settingsPath)
    }

    /// True when no key but `machineId` is left (then logout may remove the file).
    var isEmptyWithoutMachineId: Bool {
        guard case .object(let pairs) = json else { return true }
        return pairs.allSatisfy { $0.0 == "machineId" }
    }
}
