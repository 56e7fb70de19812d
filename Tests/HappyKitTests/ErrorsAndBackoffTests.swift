import Foundation
import Testing

@testable import HappyKit

/// Poll backoff, and the one mapping from errors to exit statuses (PROTOCOL §4) with messages that never leak secrets.
@Suite struct ErrorsAndBackoffTests {
    // MARK: Backoff

    @Test func growsExponentiallyUpToTenSeconds() {
        var backoff = Backoff()
        let waits = (0..<8).map { _ in backoff.next(random: 0.999_999, retryAfter: nil) }
        let steps: [Duration] = [
            .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10), .seconds(10), .seconds(10),
        ]
        for (wait, step) in zip(waits, steps) {
            #expect(wait <= step && wait > step * 0.999, "\(wait) vs \(step)")
        }
        #expect(backoff.failures == 8)
    }

    /// Known answers, written out: the random draw maps linearly onto half to all of the step (1, 2, 4, 8, 10, 10 s).
    @Test(
        arguments: [
            (0.0, [500, 1000, 2000, 4000, 5000, 5000]),
            (0.5, [750, 1500, 3000, 6000, 7500, 7500]),
            (0.9, [950, 1900, 3800, 7600, 9500, 9500]),
        ] as [(Double, [Int64])])
    func jitterSpreadsTheWaitOverHalfToAllOfTheStep(random: Double, milliseconds: [Int64]) {
        var backoff = Backoff()
        let waits = milliseconds.map { _ in backoff.next(random: random, retryAfter: nil) }
        for (wait, expected) in zip(waits, milliseconds) {
            // Duration arithmetic with a Double factor may land a few attoseconds off; a microsecond is plenty.
            let target = Duration.milliseconds(expected)
            #expect((wait > target ? wait - target : target - wait) < .microseconds(1), "\(wait) vs \(expected) ms")
        }
    }

    @Test func neverOverflowsAfterManyFailures() {
        var backoff = Backoff()
        for _ in 0..<200 { _ = backoff.next(random: 0.5, retryAfter: nil) }
        #expect(backoff.next(random: 0.999, retryAfter: nil) <= .seconds(10))
    }

    @Test(arguments: [("7", Duration.seconds(7)), (" 3 ", .seconds(3)), ("0", .seconds(1)), ("600", .seconds(60))])
    func retryAfterWins(header: String, expected: Duration) {
        var backoff = Backoff()
        _ = backoff.next(random: 0.5, retryAfter: nil)
        #expect(backoff.next(random: 0.5, retryAfter: header) == expected)
        #expect(backoff.failures == 2)
    }

    @Test(arguments: ["-1", "soon", "Wed, 21 Oct 2026 07:28:00 GMT", "1.5", ""])
    func unusableRetryAfterFallsBackToTheBackoff(header: String) {
        var backoff = Backoff()
        #expect(backoff.next(random: 0.0, retryAfter: header) == .milliseconds(500))
    }

    @Test func resetStartsOver() {
        var backoff = Backoff()
        for _ in 0..<5 { _ = backoff.next(random: 0, retryAfter: nil) }
        backoff.reset()
        #expect(backoff.next(random: 0, retryAfter: nil) == .milliseconds(500))
    }

    // MARK: exit statuses

    /// Every case once. The switch has no default, so a new case fails to compile until it is added here.
    static let everyError: [(HappyError, HappyKit.ExitStatus)] = {
        let all: [HappyError] = [
            .serverUnreachable(server: "s", reason: "r"), .untrustedServer(server: "s", reason: "r"),
            .approvalTimedOut(seconds: 1), .badResponse("b"), .refused("r"), .fileProblem(path: "p", reason: "r"),
            .usage("u"), .failed("f"), .internalFailure("i"), .requestExpired,
        ]
        return all.map { error in
            let status: HappyKit.ExitStatus =
                switch error {
                case .serverUnreachable: .unavailable
                case .untrustedServer: .unavailable
                case .approvalTimedOut: .timedOut
                case .requestExpired: .timedOut
                case .badResponse: .badResponse
                case .refused: .refused
                case .fileProblem: .failure
                case .usage: .usage
                case .failed: .failure
                case .internalFailure: .failure
                }
            return (error, status)
        }
    }()

    @Test(arguments: everyError)
    func mapsEveryErrorToItsExitStatus(error: HappyError, status: HappyKit.ExitStatus) {
        #expect(error.exitStatus == status)
    }

    @Test func exitStatusesAreTheSysexitsCodes() {
        #expect(HappyKit.ExitStatus.allCases.map(\.rawValue) == [0, 1, 64, 69, 74, 75, 76, 77, 129, 130, 143])
        #expect(
            HappyKit.ExitStatus.allCases.map { "\($0)" } == [
                "ok", "failure", "usage", "unavailable", "ioError", "timedOut", "badResponse", "refused", "hungUp",
                "interrupted",
                "terminated",
            ])
    }

    @Test(arguments: everyError.map { $0.0 })
    func messagesAreOneLineStartingWithHappy(error: HappyError) {
        #expect(error.userMessage.hasPrefix("happy: "))
        #expect(!error.userMessage.contains("\n"))
    }

    @Test func timeoutMessageSaysWhatToDo() {
        #expect(
            HappyError.approvalTimedOut(seconds: 120).userMessage
                == "happy: no approval arrived within 120 s. Run `happy auth login` again, or raise --timeout.")
    }

    @Test func badResponsesBuiltByTheLoginNeverEchoTheToken() throws {
        let token = "tok-SECRET-0123456789abcdef"
        let keys = try BoxKeyPair.generate()
        let answers: [AuthRequestReply] = [
            AuthRequestReply(state: "authorized", token: token, response: nil),
            AuthRequestReply(state: "authorized", token: token, response: "not base64 \(token)"),
            AuthRequestReply(
                state: "authorized", token: token, response: Base64.encode([UInt8](repeating: 1, count: 90))),
            AuthRequestReply(state: "authorized", token: "", response: Base64.encode([UInt8](repeating: 1, count: 90))),
        ]
        for answer in answers {
            let error = #expect(throws: HappyError.self) { try DeviceApproval.decrypt(answer, with: keys) }
            #expect(error?.exitStatus == .badResponse)
            #expect(error?.userMessage.contains(token) == false)
            #expect(error?.userMessage.contains("SECRET") == false)
        }
    }
}
