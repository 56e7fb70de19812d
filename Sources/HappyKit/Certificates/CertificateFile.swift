import FoundationEssentials
import Glibc

/// The bytes of a `--cert` or `--key` file, read straight into locked memory because they may hold a private key.
struct CertificateFile {
    /// Larger than any sane PEM bundle or PKCS#12 file; guards against `--cert /dev/zero`-style mistakes.
    static let maximumSize = 1 << 20

    let path: String
    let bytes: SecretBytes
    /// Permission bits (`st_mode & 0o7777`), for the "key readable by others" warning.
    let mode: UInt32

    /// Reads the whole file straight into locked memory (not `Data`, which would leave a copy of a key in ordinary
    /// memory), only when it is a regular file of at most 1 MiB (`BoundedFile`). `role` names the file in errors.
    init(path: String, role: String) throws {
        self.path = path
        do { bytes = try BoundedFile.readSecret(path, limit: Self.maximumSize) } catch {
            if case .tooLarge = error {
                throw HappyError.refused("the \(role) \(path) is too large (over 1 MiB) to be a certificate or key")
            }
            throw HappyError.refused("cannot read the \(role) \(path): \(error.reason)")
        }
        guard bytes.count > 0 else { throw HappyError.refused("the \(role) \(path) is empty") }
        var info = stat()
        mode = stat(path, &info) == 0 ? UInt32(info.st_mode) & 0o7777 : 0
    }

    /// A warning when other users may read the key; `nil` when only the owner can (PROTOCOL §4, `--key`).
    var keyPermissionWarning: String? {
        guard mode & 0o077 != 0 else { return nil }
        return "the private key in \(path) is accessible to other users (mode \(String(mode, radix: 8))); "
            + "run `chmod 600 \(path)`"
    }
}

/// One `-----BEGIN label-----` … `-----END label-----` block of a PEM file, located without decoding it.
/// Scanning in Swift lets each block go to OpenSSL alone, so a key is only ever parsed as a key.
struct PEMBlock: Equatable {
    let label: String
    /// Byte offsets of the whole block, BEGIN line to END line inclusive.
    let range: Range<Int>
    /// `ENCRYPTED PRIVATE KEY` (PKCS#8) or a traditional key with `Proc-Type: 4,ENCRYPTED`.
    let isEncrypted: Bool

    var isCertificate: Bool { ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"].contains(label) }
    var isPrivateKey: Bool { label.hasSuffix("PRIVATE KEY") }
    /// A key wrapped by a TPM 2.0 (`openssl genpkey -provider tpm2`, `tpm2tss-genkey`), PROTOCOL §7.
    var isTPMKey: Bool { label == "TSS2 PRIVATE KEY" }

    /// All complete blocks in `text`, in file order; text outside blocks (comments, `openssl` "Bag Attributes") is
    /// ignored. An empty result means the file is not PEM.
    static func scan(_ text: UnsafeRawBufferPointer) -> [PEMBlock] {
        let lines = lineRanges(text)
        var blocks: [PEMBlock] = []
        var index = 0
        while index < lines.count {
            guard let label = marker("-----BEGIN ", in: text, lines[index]) else {
                index += 1
                continue
            }
            var encrypted = label == "ENCRYPTED PRIVATE KEY"
            var end = index + 1
            while end < lines.count, marker("-----END ", in: text, lines[end]) != label {
                if marker("-----BEGIN ", in: text, lines[end]) != nil { break }  // unterminated; restart there
                encrypted = encrypted || starts(text, lines[end], with: "Proc-Type: 4,ENCRYPTED")
                end += 1
            }
            guard end < lines.count, marker("-----END ", in: text, lines[end]) == label else {
                index = end
                continue
            }
            blocks.append(
                PEMBlock(
                    label: label, range: lines[index].lowerBound..<lines[end].upperBound,
                    isEncrypted: encrypted))
            index = end + 1
        }
        return blocks
    }

    /// The DER this block carries: its base64 lines decoded, header lines (`Proc-Type: …`) skipped; nil when they
    /// are not base64. The result is ordinary memory: only for blocks that hold no secret (a certificate, a key
    /// wrapped by a TPM).
    func der(in text: UnsafeRawBufferPointer) -> [UInt8]? {
        let block = UnsafeRawBufferPointer(rebasing: text[range])
        let body = Self.lineRanges(block).dropFirst().dropLast()
            .map { String(decoding: block[$0], as: UTF8.self) }.filter { !$0.contains(":") }
            .joined().filter { !$0.isWhitespace }
        return body.isEmpty ? nil : Base64.decode(body)
    }

    /// Line ranges including their terminating newline.
    private static func lineRanges(_ text: UnsafeRawBufferPointer) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        for (offset, byte) in text.enumerated() where byte == UInt8(ascii: "\n") {
            result.append(start..<offset + 1)
            start = offset + 1
        }
        if start < text.count { result.append(start..<text.count) }
        return result
    }

    private static func starts(_ text: UnsafeRawBufferPointer, _ line: Range<Int>, with prefix: String) -> Bool {
        let prefix = Array(prefix.utf8)
        guard line.count >= prefix.count else { return false }
        return text[line.lowerBound..<line.lowerBound + prefix.count].elementsEqual(prefix)
    }

    /// The label of a `-----BEGIN X-----` / `-----END X-----` line, or nil. Labels are short ASCII, never secret.
    private static func marker(_ prefix: String, in text: UnsafeRawBufferPointer, _ line: Range<Int>) -> String? {
        guard starts(text, line, with: prefix) else { return nil }
        var content = text[line.lowerBound + prefix.utf8.count..<line.upperBound]
        while let last = content.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") || last == 0x20 {
            content = content.dropLast()
        }
        let dashes = Array("-----".utf8)
        guard content.count > dashes.count, content.suffix(dashes.count).elementsEqual(dashes) else { return nil }
        let label = content.dropLast(dashes.count)
        guard label.count <= 64, label.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return String(decoding: label, as: UTF8.self)
    }
}
