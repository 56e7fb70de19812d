import Testing

@testable import HappyKit

/// RFC 7512 URIs as `--cert` takes them (PROTOCOL §6): what is kept, what the engine is asked for, what is refused.
@Suite struct PKCS11URITests {
    @Test func keepsPathAttributesAndSelectsEachObjectType() throws {
        let uri = try PKCS11URI("pkcs11:token=My%20Token;object=device;id=%01%ff;type=cert?module-name=softhsm2")
        #expect(uri["token"] == "My Token" && uri["object"] == "device")
        #expect(uri.normalized == "pkcs11:token=My%20Token;object=device;id=%01%FF;type=cert?module-name=softhsm2")
        #expect(uri.selecting(type: "private") == "pkcs11:token=My%20Token;object=device;id=%01%FF;type=private")
        #expect(uri.selecting(type: "cert") == "pkcs11:token=My%20Token;object=device;id=%01%FF;type=cert")
    }

    /// One spelling for what is used and stored: names lower-case, hex upper-case, unreserved bytes decoded.
    @Test func normalisesNamesAndPercentEncoding() throws {
        let uri = try PKCS11URI("PKCS11:Token=My%20T%6fken;OBJECT=a%2fb;id=%0a?Module-Path=/usr/lib/x%20y.so")
        #expect(uri.normalized == "pkcs11:token=My%20Token;object=a%2Fb;id=%0A?module-path=/usr/lib/x%20y.so")
        #expect(try PKCS11URI(uri.normalized).normalized == uri.normalized)
    }

    /// Every pin-* attribute, anywhere, in any case, its name percent-encoded or not; the PIN never in the message.
    @Test(arguments: [
        "pkcs11:token=t;object=o;pin-source=file:/run/pin1234", "pkcs11:token=t;object=o?pin-source=file:/pin1234",
        "pkcs11:token=t;object=o;PIN-Source=/pin1234", "pkcs11:token=t;object=o;pin%2Dsource=/pin1234",
        "pkcs11:token=t;object=o;%70in-value=1234", "pkcs11:token=t;object=o?PIN-VALUE=1234",
        "pkcs11:token=t;object=o;pin-value=12 34", "pkcs11:token=t;pin-foo=1234;object=o",
    ])
    func refusesEveryPinAttribute(text: String) {
        #expect {
            _ = try PKCS11URI(text)
        } throws: { error in
            guard let error = error as? HappyError, error.exitStatus == .usage else { return false }
            return error.userMessage.contains("pin-") && !error.userMessage.contains("1234")
        }
    }

    @Test(arguments: [
        "pkcs11:token=a;token=b;object=o", "pkcs11:token=a;TOKEN=b", "pkcs11:token=a;tok%65n=b",
        "pkcs11:token=a?module-name=x&module-name=y",
    ])
    func refusesARepeatedAttribute(text: String) {
        #expect {
            _ = try PKCS11URI(text)
        } throws: { error in
            (error as? HappyError)?.exitStatus == .usage
                && (error as? HappyError)?.userMessage.contains("more than once") == true
        }
    }

    @Test(arguments: [
        ("pkcs11:token=t;object=o;pin-value=1234", "pin-value"),
        ("pkcs11:token=t;object=o?pin-value=1234", "pin-value"),
        ("pkcs11:", "selects nothing"),
        ("pkcs11:library-description=x", "selects nothing"),
        ("pkcs11:token=a%zz", "malformed"),
        ("pkcs11:token=a%2", "malformed"),
        ("pkcs11:token", "malformed"),
        ("pkcs11:token=a b", "malformed"),
        ("pkcs11:token=t;type=secret-key", "type=secret-key"),
        ("/tmp/cert.pem", "not a pkcs11: URI"),
    ])
    func refusesWithAUsageError(text: String, says: String) {
        #expect {
            _ = try PKCS11URI(text)
        } throws: { error in
            guard let error = error as? HappyError, error.exitStatus == .usage else { return false }
            return error.userMessage.contains(says) && !error.userMessage.contains("1234")
        }
    }

    @Test func recognisesURIsCaseInsensitively() {
        #expect(PKCS11URI.isURI("PKCS11:token=t") && !PKCS11URI.isURI("./pkcs11:token=t"))
    }
}
