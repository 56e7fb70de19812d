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
        let work = Task { await execute(in: context) }
        let interrupts = InterruptHandler { work.cancel() }
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
