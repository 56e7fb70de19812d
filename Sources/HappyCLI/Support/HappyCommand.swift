import ArgumentParser
import Dispatch
import FoundationEssentials
import HappyKit

/// The seam every command shares: `run(in:)` does the work against an injected context; `execute(in:)` is the one
/// place where errors become stderr text and exit statuses.
protocol HappyCommand: AsyncParsableCommand, Sendable {
    func run(in context: HappyContext) async throws
    /// Set by commands with `--debug`.
    var wantsDebug: Bool { get }
}

extension HappyCommand {
    var wantsDebug: Bool { false }

    /// Live wiring, identical in every command. SIGINT, SIGTERM and SIGHUP cancel the work: it unwinds, writes
    /// nothing, and exits 130, 143 or 129 (128 + the signal).
    func runLive() async throws {
        let signals = SignalHandler.install()
        var context = LiveContext.make(debug: wantsDebug)
        context.signals = signals.guard
        let work = Task { await execute(in: context) }
        signals.onSignal { work.cancel() }
        var status = await work.value
        if status == .ok || status == .failure { status = StandardOutput.checked(status) }  // stdout failed: 74
        if status == .interrupted, let signal = signals.received { throw ExitCode(128 + signal) }
        if status != .ok { throw ExitCode(status.rawValue) }
    }

    func execute(in context: HappyContext) async -> ExitStatus {
        do {
            try await run(in: context)
            return .ok
        } catch let status as ExitStatus {
            return status
        } catch let error as HappyError {
            context.console.error(error.userMessage)
            return error.exitStatus
        } catch is CancellationError {
            context.console.err("happy: interrupted; nothing was written.")
            return .interrupted
        } catch {
            context.console.error("happy: unexpected error: \(error)")
            return .failure
        }
    }
}
