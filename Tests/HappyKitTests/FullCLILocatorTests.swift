import Testing

@testable import HappyKit

/// Which command lines go to the full happy CLI and which program that is (PROTOCOL §7), on fake file identities.
@Suite struct FullCLILocatorTests {
    typealias Identity = FullCLILocator.FileIdentity
    static let me = Identity(device: 1, inode: 100)
    static let copy = Identity(device: 1, inode: 200)
    static let full = Identity(device: 2, inode: 300)

    private func locator(_ environment: [String: String], files: [String: Identity], current: Identity? = me)
        -> FullCLILocator
    {
        FullCLILocator(environment: environment, current: current, executableIdentity: { files[$0] })
    }

    @Test func onlyOurOwnWordsStayHere() {
        for ours in [
            ["auth"], ["auth", "status"], ["auth", "frobnicate"], ["help"], ["help", "auth"], ["--help"], ["-h"],
            ["--version"], ["--generate-completion-script", "bash"], ["--generate-completion-script=zsh"],
            ["--experimental-dump-help"],
        ] {
            #expect(!FullCLILocator.isForFullCLI(ours[...]), "\(ours)")
        }
        for theirs in [
            [], ["daemon", "start"], ["--resume"], ["codex"], ["Auth"], ["-v"], ["--"], ["", "auth"], ["status"],
            ["--versions"],
        ] {
            #expect(FullCLILocator.isForFullCLI(theirs[...]), "\(theirs)")
        }
    }

    @Test func theFirstHappyOnPathThatIsNotUsWins() {
        let found = locator(
            ["PATH": "/opt/me:/usr/local/bin:/usr/bin"],
            files: ["/opt/me/happy": Self.me, "/usr/local/bin/happy": Self.full, "/usr/bin/happy": Self.copy]
        ).locate()
        #expect(found == .fullCLI(path: "/usr/local/bin/happy", marker: "1:100"))
    }

    @Test func anEmptyPathEntryIsTheWorkingDirectory() {
        #expect(
            locator(["PATH": "/a::/b"], files: ["./happy": Self.full]).locate()
                == .fullCLI(path: "./happy", marker: "1:100"))
    }

    /// A second copy of this program passes the line on with both identities in the marker, so it can never come
    /// back: the copy skips the first one and itself.
    @Test func copiesOfThisProgramListedInTheMarkerAreSkipped() {
        let files = ["/a/happy": Self.me, "/b/happy": Self.copy, "/c/happy": Self.full]
        let first = locator(["PATH": "/a:/b:/c"], files: files).locate()
        #expect(first == .fullCLI(path: "/b/happy", marker: "1:100"))
        let second = locator(
            ["PATH": "/a:/b:/c", "HAPPY_PASSTHROUGH_SKIP": "1:100"], files: files, current: Self.copy
        ).locate()
        #expect(second == .fullCLI(path: "/c/happy", marker: "1:100 1:200"))
        let none = locator(
            ["PATH": "/a:/b", "HAPPY_PASSTHROUGH_SKIP": "1:100"], files: files, current: Self.copy
        ).locate()
        #expect(none == .notInstalled)
    }

    @Test func aMalformedMarkerOnlyLosesItsBadParts() {
        #expect(
            FullCLILocator.parseMarker("1:100 x:1 2 :3 99999999999999999999:1 4:5") == [
                Self.me, Identity(device: 4, inode: 5),
            ])
    }

    @Test func happyFullCLIWinsOverPath() {
        let found = locator(
            ["PATH": "/c", "HAPPY_FULL_CLI": "/opt/full/happy.mjs"], files: ["/c/happy": Self.full]
        ).locate()
        #expect(found == .fullCLI(path: "/opt/full/happy.mjs", marker: "1:100"))
        // Empty counts as unset.
        #expect(
            locator(["PATH": "/c", "HAPPY_FULL_CLI": ""], files: ["/c/happy": Self.full]).locate()
                == .fullCLI(path: "/c/happy", marker: "1:100"))
    }

    @Test func happyFullCLINamingThisProgramIsRefused() {
        let found = locator(["HAPPY_FULL_CLI": "/usr/bin/happy"], files: ["/usr/bin/happy": Self.me]).locate()
        guard case .refused(let why) = found else { return #expect(Bool(false), "\(found)") }
        #expect(why.hasPrefix("HAPPY_FULL_CLI=/usr/bin/happy is this happy itself"))
    }

    @Test func withoutKnowingItselfPathIsNeverSearched() {
        #expect(locator(["PATH": "/c"], files: ["/c/happy": Self.full], current: nil).locate() == .notInstalled)
    }

    @Test func noPathNoFullCLI() {
        #expect(locator([:], files: [:]).locate() == .notInstalled)
    }
}
