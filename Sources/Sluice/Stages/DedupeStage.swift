import SluiceCore

/// Drops records whose key was already seen earlier in the run: the first occurrence in
/// input order wins, whatever the worker counts (batches run one at a time in input
/// order, see ``InputOrderSequencer``). Repeats are counted as filtered.
///
/// The key is an expression; strings compare by their unescaped bytes, other values by
/// their JSON text, so `1`, `1.0` and `"1"` are three different keys. A record whose key is null or
/// missing is kept and not remembered. An evaluation error fails the record.
///
/// Memory: every distinct key is kept for the whole run, about 80 bytes plus the key's
/// length each (a 20-byte key: ~100 bytes, so 1 M keys ≈ 100 MB). Past `max_keys`
/// distinct keys the stage stops the run (exit 1) with a clear message rather than grow
/// without bound. Keys of records of a file that later fails as a whole stay remembered.
///
/// ```yaml
/// - name: unique-orders
///   dedupe: { key: id, max_keys: 1000000 }
/// ```
public final class DedupeStage: Stage, @unchecked Sendable {
    /// Configuration of `dedupe`.
    public struct Config: Sendable, Equatable {
        /// The expression whose value identifies a record (`id`, `customer.id + ":" + sku`).
        public var key: String
        /// Most distinct keys remembered before the run fails (default 1,000,000).
        public var maxKeys: Int

        public init(key: String, maxKeys: Int = Keys.maxKeys.defaultValue!) {
            self.key = key
            self.maxKeys = maxKeys
        }
    }

    public static let kind = "dedupe"
    public var needsInputOrder: Bool { true }

    let key: CompiledExpression
    let maxKeys: Int
    private let lock = ConditionLock()
    private var seen = Set<[UInt8]>()

    init(key: CompiledExpression, maxKeys: Int) {
        self.key = key
        self.maxKeys = maxKeys
    }

    /// - Throws: ``StageConfigError`` when the key does not compile or `max_keys` < 1.
    public static func make(config: Config) throws(StageConfigError) -> DedupeStage {
        var problems: [StageConfigProblem] = []
        var key: CompiledExpression?
        do {
            key = try CompiledExpression(config.key)
        } catch {
            problems.append(StageConfigProblem(keyPath: [kind, "key"], error))
        }
        if config.maxKeys < 1 { problems.append(StageConfigProblem(keyPath: [kind, "max_keys"], message: "must be 1 or more")) }
        guard problems.isEmpty, let key else { throw StageConfigError(problems: problems) }
        return DedupeStage(key: key, maxKeys: config.maxKeys)
    }

    /// Number of distinct keys remembered.
    var keyCount: Int { lock.withLock { seen.count } }

    public func process(_ batch: inout Batch, context: StageContext) {
        var overflow = false
        // The sequencer runs one batch at a time; the lock only publishes the set.
        lock.withLock {
            batch.siftRecords(context: context) { view, root in
                if overflow { return .keep }
                let value: ExpressionValue
                do throws(EvaluationError) {
                    value = try key.evaluate(record: root, in: view, now: context.now)
                } catch {
                    return .fail(.transform, "dedupe key: \(error.message)")
                }
                if value == .null { return .keep }
                // A type tag keeps the string "1" apart from the number 1.
                let bytes = value.withStringBytes(in: view) { [0x01] + Array($0) } ?? [0x02] + value.jsonText(in: view)
                if seen.contains(bytes) { return .drop }
                guard seen.count < maxKeys else {
                    overflow = true
                    return .keep
                }
                seen.insert(bytes)
                return .keep
            }
        }
        if overflow {
            batch.fatal = "more than max_keys (\(maxKeys)) distinct keys; raise dedupe.max_keys or dedupe on a coarser key"
        }
    }
}
