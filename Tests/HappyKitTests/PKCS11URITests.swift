import Testing

@testable import HappyKit

/// RFC 7512 URIs as `--cert` takes them (PROTOCOL §6): what is kept, what the engine is asked for, what is refused.
@Suite struct PKCS11URITests {
    @Test func keepsPathAttributesAndSelectsEachObjectType() throws {
        let uri = try PKCS11URI("pkcs11:token=My%20Token;object=device;id=%01%ff;type=cert?module-name=softhsm2")
        #expect(uri["token"] == "My Token" && uri["object"] == "device")
        #expect(uri.description == "pkcs11:token=My%20Token;object=device;id=%01%ff;type=cert?module-name=softhsm2")
        #expect(uri.selecting(type: "private") == "pkcs11:token=My%20Token;object=device;id=%01%ff;type=private")
        #expect(uri.selecting(type: "cert") == "pkcs11:token=My%20Token;object=device;id=%01%ff;type=cert")
    }

    @Test func dropsPinSourceFromWhatIsStored() throws {
        let uri = try PKCS11URI("pkcs11:token=t;object=o?pin-source=file:/run/pin&module-name=p11-kit-proxy")
        #expect(uri.description == "pkcs11:token=t;object=o?module-name=p11-kit-proxy")
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
