import Foundation
import X509

/// Harper's revocation check of client certificates (seed 002), for direct mode: the verified peer certificate is
/// looked up at the OCSP responder its AIA extension names, with a real `openssl ocsp` client (5 s timeout, the client
/// CA bundle as issuer and trust), so the server side never shares the client's OCSP code. `HAPPY_TEST_SERVER_OCSP`
/// = `fail-open` (Harper's default: only `revoked` refuses) or `fail-closed` (anything but `good` refuses).
public enum OCSPFailureMode: String, Sendable {
    case failOpen = "fail-open"
    case failClosed = "fail-closed"
}

struct OCSPClientCheck: Sendable {
    enum Verdict: Equatable {
        case good, revoked, inconclusive
    }

    let mode: OCSPFailureMode
    let issuerBundlePath: String

    /// Whether a peer certificate must be refused, and why (the reply's error string).
    func refusal(for der: [UInt8]) async -> String? {
        switch await verdict(for: der) {
        case .good: return nil
        case .revoked: return "certificate-revoked"
        case .inconclusive: return mode == .failClosed ? "not-eligible" : nil
        }
    }

    func verdict(for der: [UInt8]) async -> Verdict {
        guard let certificate = try? Certificate(derEncoded: der),
            let access = try? certificate.extensions.authorityInformationAccess,
            let url = access.lazy.filter({ $0.method == .ocspServer }).compactMap({ description -> String? in
                if case .uniformResourceIdentifier(let uri) = description.location { return uri }
                return nil
            }).first
        else { return .inconclusive }
        let directory = NSTemporaryDirectory() + "happy-server-ocsp-" + UUID().uuidString.prefix(8)
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil
        else { return .inconclusive }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pem =
            "-----BEGIN CERTIFICATE-----\n"
            + Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            + "\n-----END CERTIFICATE-----\n"
        let certificatePath = directory + "/peer.pem"
        guard (try? pem.write(toFile: certificatePath, atomically: true, encoding: .utf8)) != nil else {
            return .inconclusive
        }
        let output = await Self.run(
            "/usr/bin/openssl",
            [
                "ocsp", "-issuer", issuerBundlePath, "-CAfile", issuerBundlePath, "-cert", certificatePath, "-url", url,
                "-timeout", "5",
            ])
        guard output.contains("Response verify OK") else { return .inconclusive }
        if output.contains("\(certificatePath): revoked") { return .revoked }
        if output.contains("\(certificatePath): good") { return .good }
        return .inconclusive
    }

    /// Runs a program to completion without blocking a Swift task's thread; stdout and stderr together.
    static func run(_ executable: String, _ arguments: [String]) async -> String {
        await withCheckedContinuation { continuation in
            let process = Process()
            let pipe = Pipe()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = pipe
            process.standardError = pipe
            process.standardInput = FileHandle.nullDevice
            DispatchQueue.global().async {
                do { try process.run() } catch {
                    continuation.resume(returning: "")
                    return
                }
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
    }
}
