import SluiceCore

/// Keeps the first `count` records that reach it, in input order, and drops (filters)
/// the rest. Batches run one at a time in input order (see ``InputOrderSequencer``), so
/// the same records pass whatever the worker counts. Reading goes on to the end: the
/// other records are counted as filtered.
///
/// ```yaml
/// - name: first-100
///   limit: 100
/// ```
public final class LimitStage: Stage, @unchecked Sendable {
    /// Configuration of `limit`.
    public struct Config: Sendable, Equatable {
        /// How many records to keep (0 or more).
        public var count: Int

        public init(count: Int) {
            self.count = count
        }
    }

    public static let kind = "limit"
    public var needsTape: Bool { false }
    public var needsInputOrder: Bool { true }

    let limit: Int
    /// Records kept so far; touched only by the one batch the sequencer runs at a time.
    private var kept = 0
    private let lock = ConditionLock()

    init(limit: Int) {
        self.limit = limit
    }

    /// - Throws: ``StageConfigError`` for a negative count.
    public static func make(config: Config) throws(StageConfigError) -> LimitStage {
        guard config.count >= 0 else {
            throw StageConfigError(problems: [StageConfigProblem(keyPath: [kind], message: "limit must be 0 or more, got \(config.count)")])
        }
        return LimitStage(limit: config.count)
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        let room: Int = lock.withLock {
            let room = max(0, min(limit - kept, batch.records.count))
            kept += room
            return room
        }
        let excess = batch.records.count - room
        if excess > 0 {
            batch.records.removeLast(excess)
            batch.filtered += excess
        }
    }
}
