import Foundation
import HappyKit

/// The test server's `/_test/…` controls for the online check, deregistration and expired requests.
extension LocalServer {
    /// A control call that answers JSON: POST with `json`, or GET when `json` is nil.
    func controlReply(_ path: String, json: String? = nil) async throws -> JSONValue {
        let response = try await withTransport { transport in
            try await transport.send(
                HTTPRequest(
                    method: json == nil ? "GET" : "POST", url: url + path,
                    headers: json == nil ? [:] : ["Content-Type": "application/json"], body: json.map { Array($0.utf8) }
                ))
        }
        guard response.status == 200 else {
            throw SpawnError.exited(stdout: "", stderr: "control \(path): \(response.status)")
        }
        return try JSONParser.parse(response.body)
    }

    /// A token the server accepts for its built-in account (named "Ada Lovelace", GitHub `ada-happy`).
    func mintToken() async throws -> String {
        let reply = try await controlReply("/_test/token", json: "{}")
        guard let token = reply["token"]?.stringValue else { throw SpawnError.exited(stdout: "", stderr: "no token") }
        return token
    }

    func registerMachine(_ id: String, token: String) async throws {
        _ = try await controlReply("/_test/machines", json: #"{"id": "\#(id)", "token": "\#(token)"}"#)
    }

    func machines() async throws -> [String] {
        try await controlReply("/_test/machines")["machines"].map { value -> [String] in
            guard case .array(let items) = value else { return [] }
            return items.compactMap(\.stringValue)
        } ?? []
    }

    /// Every request the server saw except the controls, as "METHOD /path".
    func requestLog() async throws -> [String] {
        guard case .array(let items)? = try await controlReply("/_test/log")["requests"] else { return [] }
        return items.map { "\($0["method"]?.stringValue ?? "?") \($0["path"]?.stringValue ?? "?")" }
    }
}

/// A loopback port nothing listens on: bound, read, closed.
func closedLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Bool in
            bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
    return Int(UInt16(bigEndian: address.sin_port))
}

extension Scratch {
    /// `home` as a keyless login left it (files only, modes 0700/0600 so status warns about nothing): `{"token"}` and
    /// machine id `m-1`.
    func keylessLogin(token: String, machineId: String = "m-1") throws {
        try FileManager.default.createDirectory(
            atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for (name, text) in [
            ("access.key", #"{"token": "\#(token)"}"#), ("settings.json", #"{"machineId": "\#(machineId)"}"#),
        ] {
            let path = home + "/" + name
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        }
    }
}
