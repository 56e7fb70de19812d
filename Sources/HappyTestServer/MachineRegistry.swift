/// The machines each account has registered (what the daemon's `POST /v1/machines` does on happy-server), and how
/// the server answers `DELETE /v1/machines/:id`: as newer happy-server does, or as an older server without the route.
actor MachineRegistry {
    /// How `DELETE /v1/machines/:id` behaves.
    enum DeleteRoute: String, Sendable, CaseIterable {
        /// Newer happy-server: 200 `{"success": true}`, or 404 `{"error": "Machine not found"}`.
        case present
        /// An older server: no such route, fastify's 404.
        case absent = "404"
        /// A proxy or server that refuses the method: 405.
        case notAllowed = "405"
    }

    private var machines: [Int: Set<String>] = [:]
    private(set) var deleteRoute = DeleteRoute.present

    func register(_ id: String, account: Int) { machines[account, default: []].insert(id) }

    func isRegistered(_ id: String, account: Int) -> Bool { machines[account]?.contains(id) == true }

    /// Removes the machine; false when the account has no such machine.
    func remove(_ id: String, account: Int) -> Bool { machines[account]?.remove(id) != nil }

    /// Every registered machine id, sorted.
    func all() -> [String] { machines.values.flatMap { $0 }.sorted() }

    func setDeleteRoute(_ route: DeleteRoute) { deleteRoute = route }
}

/// Every request that reached the server except the `/_test/…` controls, oldest first: lets a test prove that a
/// command asked the server nothing (`happy auth status` without `--check`).
actor RequestLog {
    struct Entry: Sendable {
        let method: String
        let path: String
    }

    private(set) var entries: [Entry] = []

    func append(_ entry: Entry) { entries.append(entry) }
}
