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
        let smaps = try String(contentsOfFile: "/proc/\(pid)/smaps", encoding: .utf8)
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
    func find(_ needles: [(name: String, bytes: [UInt8])]) throws -> [Hit] {
        let fd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: "/proc/\(pid)/mem"])
        }
        defer { close(fd) }
        let longest = needles.map(\.bytes.count).max() ?? 0
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk + longest)
        var hits: [Hit] = []
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
        return hits.filter { seen.insert("\($0.needle)@\($0.address)").inserted }
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
