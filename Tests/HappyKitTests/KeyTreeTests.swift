import Foundation
import Testing

@testable import HappyKit

/// The app's key tree and content key (PROTOCOL §5), pinned by the known answer the app's own code computed, and
/// the HMAC-SHA512 under it by RFC 4231.
@Suite struct KeyTreeTests {
    static let master = counting(from: 0x00, count: 32)  // 0x00, 0x01, …, 0x1f

    @Test func derivesTheContentSeedOfTheKnownAnswer() throws {
        let seed = try KeyTree.deriveKey(master: try secret(Self.master), usage: "Happy EnCoder", path: ["content"])
        #expect(bytes(of: seed) == hex("67eebf3ff0eb241774d2f6e45e4869ca3e01785630dae7635428076e725351be"))
    }

    @Test func derivesTheContentDataKeyOfTheKnownAnswer() throws {
        let key = try KeyTree.contentPublicKey(masterSecret: try secret(Self.master))
        #expect(Base64.encode(key) == "JBr5eUFa1tvJnZOvjCur8ojPlghK1uj+cHLtTiKdRFs=")
    }

    @Test func everyPathElementAndTheUsageChangeTheKey() throws {
        let master = try secret(Self.master)
        let content = bytes(of: try KeyTree.deriveKey(master: master, usage: "Happy EnCoder", path: ["content"]))
        let root = bytes(of: try KeyTree.deriveKey(master: master, usage: "Happy EnCoder", path: []))
        let other = bytes(of: try KeyTree.deriveKey(master: master, usage: "Happy Coder", path: ["content"]))
        let deeper = bytes(of: try KeyTree.deriveKey(master: master, usage: "Happy EnCoder", path: ["content", "x"]))
        #expect(Set([content, root, other, deeper]).count == 4)
        #expect(content.count == 32 && root.count == 32)
    }

    // RFC 4231 §4.3 (test case 2) and §4.7 (test case 6: a key longer than the block, hashed first).
    @Test func hmacSHA512MatchesRFC4231() throws {
        func mac(_ key: [UInt8], _ data: [UInt8]) throws -> [UInt8] {
            try key.withUnsafeBytes { k in
                try data.withUnsafeBytes { bytes(of: try KeyTree.hmacSHA512(key: k, data: $0)) }
            }
        }
        #expect(
            try mac(Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
                == hex(
                    """
                    164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                    9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737
                    """))
        #expect(
            try mac(
                [UInt8](repeating: 0xaa, count: 131),
                Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
                == hex(
                    """
                    80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                    6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598
                    """))
    }
}
