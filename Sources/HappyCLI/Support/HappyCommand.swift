import ArgumentParser
import Dispatch
import Foundation
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

    /// Live wiring, identical in every command. Ctrl-C cancels the work; it exits 130 and leaves nothing behind.
    func runLive() async throws {
        let context = LiveContext.make(debug: wantsDebug)
        // The handler is in place before the work starts, so a Ctrl-C right after the first line of output is
        // never the default SIGINT death.
        let pending = PendingCancellation()
        let interrupts = InterruptHandler { pending.cancel() }
        let work = Task { await execute(in: context) }
        pending.attach(work)
        let status = await work.value
        withExtendedLifetime(interrupts) {}
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

/// A cancellation that may be asked for before the task it cancels exists.
final class PendingCancellation: @unchecked Sendable {   // state behind `lock`
    private let lock = NSLock()
    private var task: Task<ExitStatus, Never>?
    private var cancelled = false

    func cancel() {
        lock.lock()
        defer { lock.unlock() }
        cancelled = true
        task?.cancel()
    }

    func attach(_ task: Task<ExitStatus, Never>) {
        lock.lock()
        defer { lock.unlock() }
        self.task = task
        if cancelled { task.cancel() }
    }
}

/// SIGINT/SIGTERM: the first cancels the work (so the flow unwinds and exits 130); if the work does not end within
/// two seconds, or a second signal comes, the process exits 130 at once.
final class InterruptHandler: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(cancel: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            var seen = false
            source.setEventHandler {
                if seen { _exit(130) }
                seen = true
                if isatty(2) == 1 { LiveConsole.write("\r\u{1B}[2K", to: 2) }
                cancel()
                DispatchQueue.global().asyncAfter(deadline: .now() + 2) { _exit(130) }
            }
            source.resume()
            sources.append(source)
        }
    }
}
