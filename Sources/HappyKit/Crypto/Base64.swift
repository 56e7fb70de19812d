import FoundationEssentials

/// Standard base64 (with padding) and base64url (RFC 4648 §5, no padding), strict on input.
public enum Base64 {
    public static func encode(_ bytes: some Collection<UInt8>) -> String { Data(bytes).base64EncodedString() }

    public static func decode(_ text: String) -> [UInt8]? {
        // Foundation accepts extra padding ("QUJD==") and stray bits; only the canonical spelling is base64 here.
        guard let data = Data(base64Encoded: text), data.base64EncodedString() == text else { return nil }
        return [UInt8](data)
    }

    public static func encodeURL(_ bytes: some Collection<UInt8>) -> String {
        encode(bytes).replacing("+", with: "-").replacing("/", with: "_")
            .replacing("=", with: "")
    }

    public static func decodeURL(_ text: String) -> [UInt8]? {
        guard !text.contains("+"), !text.contains("/"), !text.contains("=") else { return nil }
        var s = text.replacing("-", with: "+").replacing("_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return decode(s)
    }
}
