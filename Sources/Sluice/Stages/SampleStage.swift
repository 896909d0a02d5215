import SluiceCore

/// Keeps a deterministic fraction of records: a record is kept when the XXH64 hash of
/// its key, read as a fraction of 2^64, is below `rate`. The same key is always kept or
/// always dropped, in every run and with any worker count; dropped records are counted
/// as filtered. A null or missing key hashes as the text `null`.
///
/// ```yaml
/// - name: ten-percent
///   sample: { rate: 0.1, key: customer.id }
/// ```
public struct SampleStage: Stage {
    /// Configuration of `sample`.
    public struct Config: Sendable, Equatable {
        /// Fraction of keys kept, from 0 to 1.
        public var rate: Double
        /// The expression whose value is hashed (its JSON text; strings by their bytes).
        public var key: String

        public init(rate: Double, key: String) {
            self.rate = rate
            self.key = key
        }
    }

    public static let kind = "sample"

    let key: CompiledExpression
    /// Hashes below this are kept.
    let threshold: UInt64
    let keepsAll: Bool

    /// - Throws: ``StageConfigError`` for a rate outside 0...1 or a key that does not compile.
    public static func make(config: Config) throws(StageConfigError) -> SampleStage {
        var problems: [StageConfigProblem] = []
        var key: CompiledExpression?
        do {
            key = try CompiledExpression(config.key)
        } catch {
            problems.append(StageConfigProblem(keyPath: [kind, "key"], error))
        }
        if !(0...1).contains(config.rate) { problems.append(StageConfigProblem(keyPath: [kind, "rate"], message: "must be between 0 and 1, got \(config.rate)")) }
        guard problems.isEmpty, let key else { throw StageConfigError(problems: problems) }
        let threshold = config.rate >= 1 ? UInt64.max : UInt64(config.rate * 18_446_744_073_709_551_616.0)
        return SampleStage(key: key, threshold: threshold, keepsAll: config.rate >= 1)
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        batch.siftRecords(context: context) { view, root in
            do throws(EvaluationError) {
                let value = try key.evaluate(record: root, in: view, now: context.now)
                let hash = value.withStringBytes(in: view) { XXHash64.hash($0) } ?? XXHash64.hash(value.jsonText(in: view))
                return keepsAll || hash < threshold ? .keep : .drop
            } catch {
                return .fail(.transform, "sample key: \(error.message)")
            }
        }
    }
}
