import Glibc

/// Who is on the other end of a loopback TCP connection. Linux lists every TCP socket with its owner's uid in
/// `/proc/net/tcp` and `/proc/net/tcp6`; the peer's socket is the entry whose local address is the peer's and whose
/// remote address is ours. The hand-off listener serves only connections whose peer socket belongs to the user
/// running `happy`, so another local user who learned the listener's path cannot deliver a claim code of their own.
public enum LoopbackPeer {
    /// Whether the socket at `peer`, connected to our `local` end, is owned by this process's effective uid. False
    /// when no entry is found or the tables cannot be read: an unproven peer is refused.
    public static func isOwnedByCurrentUser(peer: sockaddr_in, local: sockaddr_in) -> Bool {
        #if os(Linux)
        return owner(peer: peer, local: local) == geteuid()
        #else
        return true
        #endif
    }

    /// The uid owning the socket at `peer` connected to `local`, from `/proc/net/tcp` (IPv4 sockets) or
    /// `/proc/net/tcp6` (IPv6 sockets connected to the IPv4-mapped address); nil when neither lists it.
    static func owner(peer: sockaddr_in, local: sockaddr_in) -> uid_t? {
        let v4 = (endpoint(peer, mapped: false), endpoint(local, mapped: false))
        if let uid = scan("/proc/net/tcp", local: v4.0, remote: v4.1) { return uid }
        return scan("/proc/net/tcp6", local: endpoint(peer, mapped: true), remote: endpoint(local, mapped: true))
    }

    /// An address as the kernel prints it in these tables: the 32-bit words of the address in host byte order as
    /// `%08X`, a colon, the port as `%04X`. `mapped` gives the IPv6 form `::ffff:a.b.c.d`.
    static func endpoint(_ address: sockaddr_in, mapped: Bool) -> String {
        let word = hex(UInt64(address.sin_addr.s_addr), width: 8)
        let port = hex(UInt64(UInt16(bigEndian: address.sin_port)), width: 4)
        guard mapped else { return word + ":" + port }
        return "00000000" + "00000000" + hex(UInt64(UInt32(bigEndian: 0x0000_FFFF)), width: 8) + word + ":" + port
    }

    /// The uid column of the line whose local and remote addresses match, read in chunks (the table can be large).
    static func scan(_ table: String, local: String, remote: String) -> uid_t? {
        let fd = open(table, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            pending += chunk[0..<got]
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 10) {
                if let uid = match(pending[start..<newline], local: local, remote: remote) { return uid }
                start = newline + 1
            }
            pending.removeSubrange(..<start)
            if pending.count > 4096 { return nil }  // no line of this table is that long
        }
        return match(pending[...], local: local, remote: remote)
    }

    /// `sl local_address rem_address st tx:rx tr:when retrnsmt uid …`: the uid when both addresses match.
    static func match(_ line: ArraySlice<UInt8>, local: String, remote: String) -> uid_t? {
        let fields = line.split(separator: 32, omittingEmptySubsequences: true)
        guard fields.count > 7,
            String(decoding: fields[1], as: UTF8.self).uppercased() == local,
            String(decoding: fields[2], as: UTF8.self).uppercased() == remote
        else { return nil }
        return uid_t(String(decoding: fields[7], as: UTF8.self))
    }

    private static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
