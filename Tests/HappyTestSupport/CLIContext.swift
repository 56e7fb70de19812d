import Foundation
import HappyKit
import Testing

extension HappyContext {
    /// A context for running commands (HappyCLITests): the clock is fixed, and the network, processes, browser and
    /// sleeping fail the test when used (`test(home:…)` with a fixed clock).
    public static func cliTest(
        home: String, console: Console, environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> HappyContext {
        var context = test(
            home: HappyHome(path: home), console: console, environment: environment, random: 0.5,
            sourceLocation: sourceLocation)
        context.timing = Timing(
            now: { TestTiming.defaultNow }, elapsed: { .zero },
            sleep: { _ in
                Issue.record("unexpected use of sleep", sourceLocation: sourceLocation)
                throw UnexpectedUse(what: "sleep")
            })
        return context
    }
}

/// The browser of `cliTest`: any use fails the test.
public typealias NoBrowser = FailingBrowser
