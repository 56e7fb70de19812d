import Testing

@testable import HappyKit

/// The byte plumbing of device signatures (PROTOCOL §7): PKCS#11's r||s as DER, PKCS#1 DigestInfo prefixes, the
/// schemes a key advertises, and one line per PKCS#11 failure.
@Suite struct DeviceSignatureTests {
    @Test func ecdsaRawSignatureBecomesDERWithPositiveMinimalIntegers() throws {
        // r has its high bit set (needs a 0x00), s has leading zeros (dropped).
        let r: [UInt8] = [0x80] + [UInt8](repeating: 0x11, count: 31)
        let s: [UInt8] = [0x00, 0x00] + [UInt8](repeating: 0x22, count: 30)
        let der = try DeviceSignature.ecdsaDER(fromRawRS: r + s)
        #expect(der == [0x30, 33 + 2 + 30 + 2, 0x02, 33, 0x00] + r + [0x02, 30] + s.dropFirst(2))
    }

    @Test func p521SignatureUsesALongFormLength() throws {
        let half = [UInt8](repeating: 0xFF, count: 66)
        let der = try DeviceSignature.ecdsaDER(fromRawRS: half + half)
        #expect(Array(der.prefix(3)) == [0x30, 0x81, 2 * (2 + 67)])
        #expect(der.count == 3 + 2 * (2 + 67))
    }

    @Test(arguments: [0, 3, 300])
    func malformedRawSignaturesAreRefused(count: Int) {
        #expect(throws: HappyError.self) {
            try DeviceSignature.ecdsaDER(fromRawRS: [UInt8](repeating: 1, count: count))
        }
    }

    @Test func digestInfoPrefixesAreRFC8017s() {
        let sha256: [UInt8] = [
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ]
        #expect(DeviceSignature.digestInfoPrefix(.sha256) == sha256)
        #expect(DeviceSignature.digestInfoPrefix(.sha384).prefix(2) == [0x30, 0x41])
        #expect(DeviceSignature.digestInfoPrefix(.sha512).last == 0x40)
    }

    @Test func schemesFollowTheKeyAndTheToken() {
        #expect(TokenSignatureScheme.schemes(isEC: true, bits: 256) == [.ecdsaSHA256])
        #expect(TokenSignatureScheme.schemes(isEC: true, bits: 384) == [.ecdsaSHA384])
        #expect(TokenSignatureScheme.schemes(isEC: false, bits: 2048, pss: false).allSatisfy { $0.padding == .pkcs1 })
        #expect(TokenSignatureScheme.schemes(isEC: false, bits: 2048, pkcs1: false).allSatisfy { $0.padding == .pss })
    }

    @Test(arguments: [
        (UInt(0xA0), "wrong PIN"), (UInt(0xA4), "is locked"), (UInt(0xA3), "has expired"),
        (UInt(0x32), "was removed"), (UInt(0xE0), "is not present"),
    ])
    func pkcs11FailuresHaveTheirOwnLine(code: UInt, says: String) {
        let error = TokenFailure.error(code, token: "token \"t\"", during: "logging in")
        #expect(error.exitStatus == .refused)
        #expect(error.userMessage.contains(says), "\(error.userMessage)")
        #expect(!error.userMessage.contains("\n"))
    }
}
