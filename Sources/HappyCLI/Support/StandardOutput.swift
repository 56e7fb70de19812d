import Glibc
import HappyKit
import Synchronization

/// Whether everything written to stdout arrived. A report a script reads that could not be written (`/dev/full`, a
/// closed stdout, a pipe whose reader left) is a failure: `happy` then exits 74 (EX_IOERR) with one line on stderr,
/// never 0 with nothing said.
enum StandardOutput {
    /// The errno of the first failed write to stdout, or 0.
    private static let failure = Atomic<Int32>(0)

    /// Records a failed write to `fd` (only stdout counts).
    static func recordFailure(fd: Int32, errno code: Int32) {
        guard fd == 1 else { return }
        _ = failure.compareExchange(expected: 0, desired: code == 0 ? EIO : code, ordering: .relaxed)
    }

    /// Called first thing: a stdout or stderr that is closed is noted (stdout) and held by `/dev/null`, so no file
    /// the command opens later can land on descriptor 1 or 2 and receive its output.
    static func guardStandardDescriptors() {
        for fd: Int32 in [1, 2] where fcntl(fd, F_GETFD) < 0 && errno == EBADF {
            recordFailure(fd: fd, errno: EBADF)
            let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
            if null >= 0 && null != fd {
                dup2(null, fd)
                close(null)
            }
        }
    }

    /// `status`, unless stdout failed: then the one line on stderr and `.ioError` (74).
    static func checked(_ status: ExitStatus) -> ExitStatus {
        let code = failure.load(ordering: .relaxed)
        guard code != 0 else { return status }
        LiveConsole.write(
            "happy: cannot write to standard output (\(String(cString: strerror(code)))); the output was lost.\n",
            to: 2)
        return .ioError
    }
}
