import Foundation
import Testing

@testable import HappyKit

/// `JSONParser` (strict RFC 8259, keeps order and number lexemes) and `JSONValue.formatted()`, which must print
/// exactly what `JSON.stringify(value, null, 2)` prints. Expected texts were printed by node.
@Suite struct JSONTests {
    @Test func formatsNestedAndEmptyContainersLikeJSONStringify() throws {
        let value = try JSONParser.parse(
            #"{"a":[],"b":{},"c":[[],[1,[2,{}]],{"d":null}],"e":{"f":{"g":[true,false]}}}"#)
        #expect(
            value.formatted() == """
                {
                  "a": [],
                  "b": {},
                  "c": [
                    [],
                    [
                      1,
                      [
                        2,
                        {}
                      ]
                    ],
                    {
                      "d": null
                    }
                  ],
                  "e": {
                    "f": {
                      "g": [
                        true,
                        false
                      ]
                    }
                  }
                }
                """)
        #expect(value.compact() == #"{"a":[],"b":{},"c":[[],[1,[2,{}]],{"d":null}],"e":{"f":{"g":[true,false]}}}"#)
    }

    @Test func formatsEmptyTopLevelContainersAndScalars() {
        #expect(JSONValue.array([]).formatted() == "[]")
        #expect(JSONValue.object([]).formatted() == "{}")
        #expect(JSONValue.null.formatted() == "null")
        #expect(JSONValue.string("").formatted() == "\"\"")
        #expect(JSONValue.number("-12.5e3").formatted() == "-12.5e3")
    }

    @Test func escapesStringsLikeJSONStringify() {
        // node: JSON.stringify({"k\"\\\n": "\b\f\n\r\t\u0001\u001f\u007f/é😀\u2028</script>"}, null, 2)
        let value = JSONValue.object([("k\"\\\n", .string("\u{08}\u{0C}\n\r\t\u{01}\u{1F}\u{7F}/é😀\u{2028}</script>"))])
        #expect(
            value.formatted() == "{\n  \"k\\\"\\\\\\n\": \"\\b\\f\\n\\r\\t\\u0001\\u001f\u{7F}/é😀\u{2028}</script>\"\n}"
        )
    }

    @Test func parsesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#"["\"\\\/\b\f\n\r\t", "\u00e9\u0041", "\ud83d\ude00", "\u2028"]"#)
        #expect(
            value == .array([.string("\"\\/\u{08}\u{0C}\n\r\t"), .string("éA"), .string("😀"), .string("\u{2028}")]))
    }

    @Test func keepsKeyOrderAndTheLastOfDuplicateKeysInTheFirstPlace() throws {
        let value = try JSONParser.parse(#"{"b": 1, "a": 2, "b": 3}"#)  // JSON.parse: {"b":3,"a":2}
        #expect(value.compact() == #"{"b":3,"a":2}"#)
    }

    @Test(arguments: ["0", "-0", "1.50", "-0e3", "1E+2", "1e-7", "123456789012345678901234567890"])
    func keepsNumberLexemes(lexeme: String) throws {
        #expect(try JSONParser.parse("[\(lexeme)]") == .array([.number(lexeme)]))
    }

    @Test func parsesAroundWhitespace() throws {
        #expect(
            try JSONParser.parse(" \t\r\n{ \"a\" : [ 1 , 2 ] }\n")
                == .object([("a", .array([.number("1"), .number("2")]))]))
    }

    @Test(
        arguments: [
            ("", 0), ("   ", 3), ("{", 1), ("{\"a\":1,}", 7), ("[1 2]", 3), ("[1,]", 3), ("tru", 3), ("nul", 3),
            ("\"abc", 4), ("01", 2), ("-", 1), ("1.", 2), ("1e", 2), (".5", 0), ("+1", 0), ("{\"a\" 1}", 5),
            ("{a:1}", 1), ("{} x", 3), ("[1]]", 3), ("'a'", 0), ("\"a\u{01}\"", 2), ("\"\\x\"", 3),
            ("\"\\u12\"", 3), ("\"\\u+123\"", 3), ("\"\\u-123\"", 3), ("\"\\u 123\"", 3), ("\"\\ud800\"", 7),
            ("\"\\udc00\"", 7),
            ("\"\\ud800\\u0041\"", 13), ("NaN", 0), ("[Infinity]", 1), ("{\"a\":}", 5),
        ] as [(String, Int)])
    func rejectsMalformedJSONWithAnOffset(text: String, offset: Int) {
        let failure = #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
        #expect(failure?.offset == offset, "\(failure?.message ?? "")")
        #expect(failure?.message.isEmpty == false)
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let failure = #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
        #expect(failure?.message == "nested too deeply")
        #expect(throws: Never.self) {
            try JSONParser.parse(String(repeating: "[", count: 60) + String(repeating: "]", count: 60))
        }
    }

    @Test func rejectsInvalidUTF8() {
        let failure = #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        #expect(failure?.message == "not valid UTF-8")
    }

    @Test func roundTripsWhatItFormats() throws {
        let text = SettingsTests.fixture
        #expect(try JSONParser.parse(text).formatted() == text)
        #expect(try JSONParser.parse(try JSONParser.parse(text).compact()).formatted() == text)
    }

    @Test func setKeepsPositionAndRemoves() {
        var value = JSONValue.object([("a", .number("1")), ("b", .number("2"))])
        value.set("a", .string("x"))
        value.set("c", .null)
        #expect(value.compact() == #"{"a":"x","b":2,"c":null}"#)
        value.set("b", nil)
        value.set("zz", nil)
        #expect(value.compact() == #"{"a":"x","c":null}"#)
        var array = JSONValue.array([])
        array.set("a", .null)  // not an object: unchanged
        #expect(array == .array([]))
    }

    @Test func accessors() throws {
        let value = try JSONParser.parse(#"{"s": "x", "n": 42, "f": 1.5, "b": false}"#)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["n"]?.intValue == 42)
        #expect(value["f"]?.intValue == nil)
        #expect(value["b"]?.boolValue == false)
        #expect(value["missing"] == nil)
        #expect(JSONValue.array([])["s"] == nil)
    }

    /// An object of distinct keys parses in linear time (a key index, not a scan per key): four times the keys take
    /// far less than sixteen times as long (a debug build is too slow for an absolute bound; the release binary's is
    /// in IntegrationTests). The last duplicate still wins, in the first one's place.
    @Test func parsesManyDistinctKeysInLinearTime() throws {
        func object(bytes: Int) -> (String, Int) {
            var text = "{\"dup\":1"
            var n = 0
            while text.utf8.count < bytes {
                text += ",\"k\(n)\":\(n)"
                n += 1
            }
            return (text + ",\"dup\":2}", n)
        }
        let clock = ContinuousClock()
        let (small, _) = object(bytes: 1 << 18)
        let (large, n) = object(bytes: 1 << 20)
        let smallStart = clock.now
        _ = try JSONParser.parse(small)
        let smallTook = clock.now - smallStart
        let largeStart = clock.now
        let value = try JSONParser.parse(large)
        let largeTook = clock.now - largeStart
        guard case .object(let pairs) = value else { Issue.record("not an object"); return }
        #expect(pairs.count == n + 1)
        #expect(pairs.first?.0 == "dup" && value["dup"] == .number("2"))
        #expect(largeTook < smallTook * 8, "1 MiB took \(largeTook), 256 KiB \(smallTook)")
    }
}
