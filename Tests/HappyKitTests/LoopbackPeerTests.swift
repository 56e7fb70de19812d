import Foundation
import Testing

@testable import HappyKit

/// `LoopbackPeer`: the kernel's `/proc/net/tcp{,6}` notation, and the owner of a real loopback connection.
@Suite struct LoopbackPeerTests {
    static func address(_ host: String, _ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = port.bigEndian
        return address
    }

    @Test func writesAddressesAsTheKernelPrintsThem() {
        #expect(LoopbackPeer.endpoint(Self.address("127.0.0.1", 0x1F90), mapped: false) == "0100007F:1F90")
        #expect(
            LoopbackPeer.endpoint(Self.address("127.0.0.1", 80), mapped: true)
                == "0000000000000000FFFF00000100007F:0050")
    }

    @Test func readsTheUIDColumnOfTheMatchingLine() {
        let line = Array(
            "   3: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 12345".utf8)
        #expect(LoopbackPeer.match(line[...], local: "0100007F:A1B2", remote: "0100007F:1F90") == 1000)
        #expect(LoopbackPeer.match(line[...], local: "0100007F:1F90", remote: "0100007F:A1B2") == nil)
    }

    /// A connection this process makes to itself is owned by this process's uid.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/net/tcp"), "needs /proc/net/tcp"))
    func findsTheOwnerOfARealConnection() throws {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(server) }
        var local = Self.address("127.0.0.1", 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, length) }
        }
        listen(server, 1)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(server, $0, &length) }
        }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        let connected = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
        }
        try #require(connected == 0)
        var peer = sockaddr_in()
        let accepted = withUnsafeMutablePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(server, $0, &length) }
        }
        defer { close(accepted) }
        #expect(LoopbackPeer.owner(peer: peer, local: local) == geteuid())
        #expect(LoopbackPeer.isOwnedByCurrentUser(peer: peer, local: local))
        // The server side's own entry does not count as the peer: swapped, the pair names our listening end.
        var wrong = peer
        wrong.sin_port = (UInt16(bigEndian: peer.sin_port) &+ 1).bigEndian
        #expect(LoopbackPeer.owner(peer: wrong, local: local) == nil)
    }
}
