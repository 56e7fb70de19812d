// The shared test support (fakes, `Locked`, `Screen`, contexts, sandboxes: Tests/HappyTestSupport), visible in every
// file of this target without an import of its own.
@_exported import HappyTestSupport
