/// The account and machine endpoints of PROTOCOL §7, sent with the stored bearer token. Status codes are returned
/// to the caller (`AccountCheck`, `MachineDeregistration`), which knows what each means to the user.
extension HappyAPI {
    /// `GET /v1/account/profile`: 200 means the server accepts the token.
    public func accountProfile(token: String, timeout: Duration? = nil) async throws -> Reply<ProfileReply> {
        try await send("GET", "/v1/account/profile", body: nil, token: token, as: ProfileReply.self, timeout: timeout)
    }

    /// Who `token` belongs to, in a few words for a line ("Ada Lovelace (@ada)"), asked within what is left of
    /// `deadline`; the reason it could not be said otherwise (the caller's login stands either way).
    func whoAmI(token: String, deadline: Deadline) async -> Result<String, HappyError> {
        do {
            let reply = try await deadline.bounding { try await accountProfile(token: token, timeout: $0) }
            guard reply.status == 200, let who = reply.value?.identityLine else {
                return .failure(.badResponse("GET /v1/account/profile answered HTTP \(reply.status)"))
            }
            return .success(who)
        } catch let error as HappyError {
            return .failure(error)
        } catch {
            return .failure(.badResponse("GET /v1/account/profile failed"))
        }
    }

    /// `GET /v1/machines/<machineId>`: 200 registered, 404 not (yet).
    public func machine(id machineId: String, token: String, timeout: Duration? = nil) async throws
        -> Reply<MachineReply>
    {
        try await send(
            "GET", "/v1/machines/" + Self.pathSegment(machineId), body: nil, token: token, as: MachineReply.self,
            timeout: timeout)
    }

    /// `DELETE /v1/machines/<machineId>` (newer happy-server): 200 `{"success": true}`, 404 `Machine not found`.
    public func deleteMachine(id machineId: String, token: String, timeout: Duration? = nil) async throws
        -> Reply<SuccessReply>
    {
        try await send(
            "DELETE", "/v1/machines/" + Self.pathSegment(machineId), body: nil, token: token, as: SuccessReply.self,
            timeout: timeout)
    }

    /// `value` as one URL path segment: every byte but RFC 3986's unreserved characters percent-encoded. The machine
    /// id comes from settings.json, so a `/`, `?` or `..` in it must not change which route is asked.
    static func pathSegment(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
