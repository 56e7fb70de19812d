import Glibc

/// Reading a secret file (a key, a password) into locked memory: the bounded, non-blocking, regular-file rules of
/// every other file, without a copy in ordinary memory.
extension BoundedFile {
    /// The whole file straight into locked memory (keys, passwords): no copy in ordinary memory.
    public static func readSecret(_ path: String, limit: Int = defaultLimit) throws(Failure) -> SecretBytes {
        try withOpenFile(path, limit: limit) { fd, size in
            var got = 0
            let buffer: SecretBytes
            do {
                buffer = try SecretBytes(count: size) { dst in
                    got = readFully(fd, into: dst)
                    if got < 0 { throw Failure.unreadable(describe(errno)) }
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure.unreadable("out of memory")  // locked memory could not be had
            }
            guard got == size else { throw Failure.unreadable("the file changed while it was read") }
            return buffer
        }
    }
}
