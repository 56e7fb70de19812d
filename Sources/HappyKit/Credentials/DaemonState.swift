import FoundationEssentials

/// `daemon.state.json`, written by the happy daemon; read only (PROTOCOL §3). Every number is range-checked:
/// a pid outside 2…2³¹−1 or a port outside 1…65535 makes the file invalid, never a crash.
public struct DaemonState: Sendable, Equatable {
    public var pid: Int32
    public var httpPort: UInt16
    public var startTime: String?
    public var startedWithCliVersion: String?

    /// What the home holds: no state file, one that cannot be used (and why), or a valid one.
    public enum Reading: Sendable, Equatable {
        case none
        case invalid(String)
        case valid(DaemonState)

        public var state: DaemonState? { if case .valid(let s) = self { s } else { nil } }
    }

    public static func read(from home: HappyHome) -> Reading {
        let bytes: [UInt8]
        do {
            guard let read = try home.read(home.daemonStatePath) else { return .none }
            bytes = read
        } catch HappyError.fileProblem(_, let reason) {
            return .invalid("daemon.state.json: \(reason)")
        } catch {
            return .invalid("daemon.state.json cannot be read")
        }
        guard let json = try? JSONParser.parse(bytes), case .object = json else {
            return .invalid("daemon.state.json is not a JSON object")
        }
        guard let pid = integer(json["pid"], in: 2...Int(Int32.max)).flatMap({ Int32(exactly: $0) }) else {
            return .invalid("daemon.state.json has no usable pid (\(describe(json["pid"])))")
        }
        guard let port = integer(json["httpPort"], in: 1...65535).flatMap({ UInt16(exactly: $0) }) else {
            return .invalid("daemon.state.json has no usable httpPort (\(describe(json["httpPort"])))")
        }
        return .valid(
            DaemonState(
                pid: pid, httpPort: port, startTime: json["startTime"]?.stringValue,
                startedWithCliVersion: json["startedWithCliVersion"]?.stringValue))
    }

    /// A JSON number that is a plain integer lexeme (no sign, fraction or exponent) inside `range`.
    static func integer(_ value: JSONValue?, in range: ClosedRange<Int>) -> Int? {
        guard case .number(let lexeme) = value, !lexeme.isEmpty, lexeme.utf8.count <= 12,
            lexeme.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let n = Int(lexeme), range.contains(n)
        else { return nil }
        return n
    }

    static func describe(_ value: JSONValue?) -> String {
        guard let value else { return "missing" }
        let text = value.compact()
        return TerminalText.excerpt(text, limit: 24)
    }
}
