import Foundation

/// The environment end-to-end tests give the binaries they spawn: the runner's, minus everything that would change
/// what `happy` does (proxies, HAPPY_*, CA files, locale, colour, browser), plus the test's own values.
enum TestEnvironment {
    /// Variables never inherited from the runner.
    static let removed: Set<String> = [
        "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
        "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "NO_COLOR", "BROWSER", "TERM", "COLUMNS",
    ]

    static func clean(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { key, _ in
            !removed.contains(key) && !key.hasPrefix("HAPPY_") && !key.hasPrefix("HAPPIER_")
                && !key.hasPrefix("SOFTHSM")
        }
        env["PATH"] = env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for (k, v) in extra { env[k] = v }
        return env
    }
}

/// A program the end-to-end tests drive. `make test` installs it (scripts/install-deps.sh is the one list), so a
/// missing one fails the test with this message instead of skipping it.
struct MissingTool: Error, CustomStringConvertible {
    let description: String
}

func requireTool(_ path: String, package: String) throws {
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw MissingTool(
            description: "\(path) is missing: run `make test` or scripts/install-deps.sh test "
                + "(Debian package \(package))")
    }
}
