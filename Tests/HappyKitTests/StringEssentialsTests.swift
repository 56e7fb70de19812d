import Foundation
import Testing

@testable import HappyKit

/// The stdlib stand-ins for the Foundation string calls HappyKit gave up (String+Essentials) answer as Foundation does.
@Suite("string helpers match Foundation")
struct StringEssentialsTests {
    static let samples = [
        "", " ", "  a b  ", "\t x\t", "\n y \r\n", "\u{A0}z\u{2003}", "\u{85}w\u{2028}", "é ", " 1234\n",
        "\u{0B}v\u{0C}",
    ]

    @Test(arguments: samples)
    func trimmingMatchesFoundation(text: String) {
        #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
        #expect(text.trimmingWhitespaceAndNewlines() == text.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(text[...].trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
    }

    @Test(arguments: ["abc", "a%20b", "%41%62", "%E2%82%AC", "%", "%4", "%zz", "%FF", "pin-value=%2F"])
    func percentDecodingMatchesFoundation(text: String) {
        #expect(text.percentDecoded == text.removingPercentEncoding)
    }

    @Test(arguments: ["http://127.0.0.1:5/a_b-c?x=1&y=~", "", "a b/c", "100%", "AZaz09-._~"])
    func percentEncodingMatchesFoundationForASCII(text: String) {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        #expect(text.percentEncodedUnreserved == text.addingPercentEncoding(withAllowedCharacters: allowed))
    }

    @Test func hexMatchesStringFormat() {
        for byte in UInt8.min...UInt8.max {
            #expect(byte.hexUppercased == String(format: "%02X", byte))
        }
    }
}
