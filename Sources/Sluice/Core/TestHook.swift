import Foundation

/// Test-only pause points, so that process tests can signal or `kill -9` a run at a
/// precise moment without big data or timing guesses.
///
/// `SLUICE_TEST_PAUSE_AT=after-rename` (a comma-separated list of names) makes the run
/// stop at that point; it then creates `SLUICE_TEST_PAUSE_FILE` (when set) so the test
/// knows it got there, and waits until the run is asked to stop, or 60 seconds. Points:
/// `after-file` (the first input file committed to the temporary output),
/// `before-rename` (ledger step 1 done), `between-renames`, `after-rename` (before ledger
/// step 3), `after-ledger`. Without the variable every call is a no-op.
package enum TestHook {
    static let points: Set<String> = {
        let value = ProcessInfo.processInfo.environment["SLUICE_TEST_PAUSE_AT"] ?? ""
        return Set(value.split(separator: ",").map(String.init))
    }()

    package static func pause(_ name: String, until isReleased: () -> Bool) {
        guard points.contains(name) else { return }
        if let marker = ProcessInfo.processInfo.environment["SLUICE_TEST_PAUSE_FILE"] {
            _ = FileManager.default.createFile(atPath: marker, contents: Data(name.utf8))
        }
        let deadline = monotonicSeconds() + 60
        while !isReleased() && monotonicSeconds() < deadline {
            usleep(10_000)
        }
    }
}
