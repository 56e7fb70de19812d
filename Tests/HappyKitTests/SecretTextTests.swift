import Foundation
import Testing

@testable import HappyKit

/// The secret path of `access.key` (issue 15): its bytes are built inside locked memory (`SecretText`, a base64
/// encoder that writes in place), and on reading the secrets are decoded straight into `SecretBytes` and masked
/// before the JSON parser sees them (`MaskedSecrets`). What the end-to-end memory scan relies on, checked piece by
/// piece; the formats themselves are pinned by AccessKeyTests.
@Suite struct SecretTextTests {
    @Test func theInPlaceEncoderWritesWhatBase64Writes() throws {
        for count in 0...70 {
            let input = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ count &* 31) }
            var text = SecretText()
            text.appendBase64(of: try secret(input))
            #expect(String(decoding: bytes(of: try text.bytes()), as: UTF8.self) == Base64.encode(input), "\(count)")
        }
        let all = (0...255).map(UInt8.init)
        var text = SecretText()
        text.append("<")
        text.appendBase64(of: try secret(all))
        text.append(">é")
        #expect(String(decoding: bytes(of: try text.bytes()), as: UTF8.self) == "<\(Base64.encode(all))>é")
    }

    @Test(arguments: [
        "", "QQ==", "QUI=", "QUJD", "QUJDRA==", "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=", "QQ=", "QQ", "QR==",
        "QUJD=", "Q===", "QUJD\n", " QUJD", "QU JD", "QQ==QQ==", "-_==", "QUI", "=QUI",
    ])
    func decodesExactlyWhatBase64Accepts(text: String) {
        var utf8 = text
        let decoded = utf8.withUTF8 { SecretBytes.decodingBase64(UnsafeRawBufferPointer($0)) }
        #expect(decoded.map { bytes(of: $0) } == Base64.decode(text), "\(text.debugDescription)")
    }

    /// The hand-laid JSON around the secret is what `JSON.stringify(…, null, 2)` (JSONValue.formatted) prints,
    /// whatever the token holds.
    @Test(arguments: ["tok.en", "a\"b\\c", "line\nfeed\ttab\u{01}", "é✓/+=", ""])
    func serializesLikeTheJSONFormatterForAnyToken(token: String) throws {
        let key = counting(from: 0xA0, count: 32)
        let publicKey = counting(from: 0xC0, count: 32)
        let legacy = JSONValue.object([("secret", .string(Base64.encode(key))), ("token", .string(token))])
        #expect(
            bytes(of: try AccessKey.legacy(secret: try secret(key), token: token).serialized())
                == Array(legacy.formatted().utf8))
        let encryption = JSONValue.object([
            ("publicKey", .string(Base64.encode(publicKey))), ("machineKey", .string(Base64.encode(key))),
        ])
        let dataKey = JSONValue.object([("encryption", encryption), ("token", .string(token))])
        #expect(
            bytes(
                of: try AccessKey.dataKey(publicKey: publicKey, machineKey: try secret(key), token: token).serialized())
                == Array(dataKey.formatted().utf8))
    }

    @Test func readingMasksTheSecretsBeforeTheParserSeesThem() throws {
        let secretText = "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8="
        let machineKeyText = "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8="
        var file = Array(
            #"{"encryption": {"publicKey": "x", "machineKey" : "\#(machineKeyText)"}, "secret":"\#(secretText)"}"#.utf8)
        let masked = MaskedSecrets(masking: &file)
        let text = String(decoding: file, as: UTF8.self)
        #expect(!text.contains(secretText) && !text.contains(machineKeyText), "\(text)")
        let json = try JSONParser.parse(file)
        let parsedSecret = try #require(json["secret"]?.stringValue)
        let secret = try #require(masked.secret(for: parsedSecret))
        #expect(bytes(of: secret) == counting(from: 0xA0, count: 32))
        let parsedMachineKey = try #require(json["encryption"]?["machineKey"]?.stringValue)
        let machineKey = try #require(masked.secret(for: parsedMachineKey))
        #expect(bytes(of: machineKey) == counting(from: 0xE0, count: 32))
        #expect(masked.secret(for: "x") == nil)
    }

    /// Files the masking leaves alone (an escape somewhere, every placeholder character taken, a key in a string)
    /// are read the ordinary way, with the same result.
    @Test(
        arguments: [
            (#"{"token": "t\/1", "secret": "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8="}"#, 0xA0),
            (#"{"token": "t~^|`!", "secret": "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8="}"#, 0xA0),
            (#"{"secret": "4OHi4+Tl5ufo6err7O3u7\/Dx8vP09fb3+Pn6+\/z9\/v8=", "token": "t"}"#, 0xE0),
            (
                #"{"x": {"secret": "QUJD"}, "token": "secret", "secret": "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8="}"#,
                0xA0
            ),
        ] as [(String, UInt8)])
    func readsFilesTheMaskingLeavesAlone(text: String, start: UInt8) throws {
        guard case .legacy(let secret, _) = try AccessKey.parse(Array(text.utf8), path: "access.key") else {
            Issue.record("expected a legacy key")
            return
        }
        #expect(bytes(of: secret) == counting(from: start, count: 32))
    }
}
