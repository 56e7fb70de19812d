/// Where a command that talks to a server finds it (PROTOCOL §3). Only such commands call these: `logout` without
/// `--deregister` and `status` without `--check` never resolve or validate a server, so a broken `serverUrl` or
/// `HAPPY_SERVER_URL` cannot stop a user from logging out.
extension HappyContext {
    /// The server: `--server` (already checked where ArgumentParser read it), else `HAPPY_SERVER_URL`, else
    /// `serverUrl` in settings.json, else the public server. A bad value from the environment or settings is a usage
    /// error (exit 64) naming where it came from, before anything else happens.
    public func serverURL(flag: ServerURL?) throws -> ServerURL {
        if let flag { return flag }
        let resolved = server(override: nil)
        return try ServerURL(validating: resolved.url, source: resolved.source.label(for: "server"))
    }

    /// The server and where it came from, unvalidated (what `status` reports). settings.json is read only when
    /// neither the flag nor the environment names a server; a corrupt file names nothing here (it is reported where
    /// it is read for its own sake).
    public func server(override: String?) -> ResolvedURL {
        let needsSettings =
            ResolvedURL.present(override) == nil && ResolvedURL.present(environment["HAPPY_SERVER_URL"]) == nil
        return ResolvedURL.server(
            flag: override, environment: environment,
            settings: needsSettings ? try? Settings.load(from: home) : nil)
    }

    /// The web app: `HAPPY_WEBAPP_URL`, else `webappUrl` in settings.json, else the public web app; validated like
    /// the server's.
    public func webappURL() throws -> ServerURL {
        let needsSettings = ResolvedURL.present(environment["HAPPY_WEBAPP_URL"]) == nil
        let resolved = ResolvedURL.webapp(
            environment: environment,
            settings: needsSettings ? try? Settings.load(from: home) : nil)
        return try ServerURL(validating: resolved.url, source: resolved.source.label(for: "webapp"))
    }

    /// Extra CA roots: `--ca`, else `HAPPY_CA_FILE`.
    public func caFile(override: String?) -> String? {
        override ?? environment["HAPPY_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
