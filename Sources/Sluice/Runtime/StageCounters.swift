import SluiceCore

/// Per-stage numbers, added to once per batch by whichever thread ran it.
final class StageCounters: Sendable {
    struct Delta: Sendable {
        var recordsIn = 0
        var recordsOut = 0
        var failed = 0
        var filtered = 0
        var dropped = 0
    }

    struct Totals: Sendable {
        var recordsIn = 0
        var recordsOut = 0
        var failed = 0
        var filtered = 0
        var dropped = 0
        var busy = 0.0
    }

    private let sum = LockedBox(Totals())

    func add(_ delta: Delta, busy seconds: Double) {
        sum.withLock { sum in
            sum.recordsIn += delta.recordsIn
            sum.recordsOut += delta.recordsOut
            sum.failed += delta.failed
            sum.filtered += delta.filtered
            sum.dropped += delta.dropped
            sum.busy += seconds
        }
    }

    var totals: Totals { sum.withLock { $0 } }
}
