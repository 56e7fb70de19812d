import Foundation

/// The memory of a live process, region by region, as /proc/<pid>/smaps and /proc/<pid>/mem show it (the reader
/// needs ptrace access to the process). For finding where bytes are held: which regions hold a needle, and whether
/// a core dump would leave those regions out (`VmFlags` containing `dd`, set by madvise(MADV_DONTDUMP), which
/// libsodium's guarded `sodium_malloc` allocations carry).
struct ProcessMemory {
    struct Region: CustomStringConvertible {
        let start: UInt64
        let end: UInt64
        let permissions: String
        let inode: UInt64
        let name: String
        let flags: [String]

        var isDumpExcluded: Bool { flags.contains("dd") }
        var description: String {
            "\(String(start, radix: 16))-\(String(end, radix: 16)) \(permissions) \(name.isEmpty ? "[anon]" : name) "
                + "VmFlags: \(flags.joined(separator: " "))"
        }
    }

    /// Where a needle was found.
    struct Hit: CustomStringConvertible {
        let needle: String
        let address: UInt64
        let region: Region
        var description: String { "\(needle) at 0x\(String(address, radix: 16)) in \(region)" }
    }

    let pid: Int32
    let regions: [Region]

    init(pid: Int32) throws {
        self.pid = pid
        let smaps = try Self.readWhole("/proc/\(pid)/smaps")
        var regions: [Region] = []
        var current: (start: UInt64, end: UInt64, permissions: String, inode: UInt64, name: String)?
        for line in smaps.split(separator: "\n", omittingEmptySubsequences: false) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), fields.count >= 5, !range.hasSuffix(":") {
                let bounds = range.split(separator: "-")
                guard bounds.count == 2, let start = UInt64(bounds[0], radix: 16),
                    let end = UInt64(bounds[1], radix: 16)
                else { continue }
                let name = fields.count > 5 ? fields[5...].joined(separator: " ") : ""
                current = (start, end, String(fields[1]), UInt64(fields[4]) ?? 0, name)
            } else if fields.first == "VmFlags:", let region = current {
                regions.append(
                    Region(
                        start: region.start, end: region.end, permissions: region.permissions, inode: region.inode,
                        name: region.name, flags: fields.dropFirst().map(String.init)))
                current = nil
            }
        }
        self.regions = regions
    }

    /// Every occurrence of each needle in the regions that can hold what the process computed: readable ones, except
    /// read-only mappings of files (which hold the file's own bytes) and the kernel's [vvar]/[vsyscall] pages.
    /// `bytesRead` counts what the reads returned, so a scan that read nothing cannot pass for a clean one.
    func find(_ needles: [(name: String, bytes: [UInt8])]) throws -> (hits: [Hit], bytesRead: Int) {
        let fd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ProcessMemoryError.cannotOpen(path: "/proc/\(pid)/mem", errno: errno) }
        defer { close(fd) }
        let longest = needles.map(\.bytes.count).max() ?? 0
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk + longest)
        var hits: [Hit] = []
        var bytesRead = 0
        for region in regions where region.permissions.hasPrefix("r") {
            if region.inode != 0 && !region.permissions.contains("w") { continue }
            if region.name == "[vvar]" || region.name == "[vsyscall]" || region.name == "[vvar_vclock]" { continue }
            var address = region.start
            while address < region.end {
                let want = Int(min(UInt64(chunk + longest), region.end - address))
                let got = buffer.withUnsafeMutableBytes {
                    pread(fd, $0.baseAddress, want, off_t(truncatingIfNeeded: address))
                }
                if got > 0 {
                    bytesRead += got
                    for needle in needles {
                        hits += Self.occurrences(of: needle.bytes, in: buffer, count: got).map {
                            Hit(needle: needle.name, address: address + UInt64($0), region: region)
                        }
                    }
                }
                address += UInt64(chunk)  // the next read overlaps this one by `longest` bytes
            }
        }
        // A needle found in the overlap of two reads is reported twice.
        var seen = Set<String>()
        return (hits.filter { seen.insert("\($0.needle)@\($0.address)").inserted }, bytesRead)
    }

    /// A /proc file read to its end: its size is 0 to stat, and one read returns a page at most, so a reader
    /// trusting either (Foundation's String(contentsOfFile:)) sees only the first few regions.
    static func readWhole(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ProcessMemoryError.cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ProcessMemoryError.cannotOpen(path: path, errno: errno) }
            if n == 0 { break }
            bytes += chunk[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func occurrences(of needle: [UInt8], in buffer: [UInt8], count: Int) -> [Int] {
        guard let first = needle.first, count >= needle.count else { return [] }
        var offsets: [Int] = []
        buffer.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { pattern in
                let base = haystack.baseAddress!
                var from = 0
                // memchr for the first byte, memcmp for the rest: C speed in a debug build.
                while from + needle.count <= count,
                    let found = memchr(base + from, Int32(first), count - needle.count + 1 - from)
                {
                    let offset = base.distance(to: UnsafeRawPointer(found))
                    if memcmp(found, pattern.baseAddress!, needle.count) == 0 { offsets.append(offset) }
                    from = offset + 1
                }
            }
        }
        return offsets
    }
}

enum ProcessMemoryError: Error, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    var description: String {
        switch self {
        case .cannotOpen(let path, let code): "cannot read \(path): \(String(cString: strerror(code)))"
        }
    }
}
