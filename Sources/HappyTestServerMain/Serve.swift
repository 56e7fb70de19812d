import ArgumentParser
import Foundation
import HappyTestServer

extension HappyTestServerCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve until SIGTERM or SIGINT.",
            discussion: "Prints exactly one line to stdout, `listening on <scheme>://<host>:<port>`; logs go to stderr."
        )

        @Option(help: "Address to bind.") var host = "127.0.0.1"
        @Option(help: "Port to bind; 0 picks a free one.") var port = 0
        @Option(help: "Log level for stderr: trace, debug, info, notice, warning, error, critical.")
        var logLevel = "warning"

        func run() async throws {
            let configuration = try TestServerConfiguration(
                host: host, port: port, environment: ProcessInfo.processInfo.environment)
            let server = try HappyTestServer(configuration: configuration, logLevel: logLevel)
            let scheme = server.scheme
            try await server.run(handlingSignals: true) { boundPort in
                // Unbuffered, so a parent process reading the pipe sees the line at once.
                FileHandle.standardOutput.write(
                    Data("listening on \(scheme)://\(configuration.host):\(boundPort)\n".utf8))
            }
        }
    }
}
