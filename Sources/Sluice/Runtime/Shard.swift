import Foundation

/// `--shard I/N`: one of N runs that split the input files between them.
///
/// A file belongs to shard `XXH64(relative path) mod N` (0-based, so Kubernetes'
/// `JOB_COMPLETION_INDEX` and a Slurm array `--array=0-(N-1)` map to it directly). The
/// hash depends only on the relative path, so a file stays in its shard from run to run
/// and on every machine. Each shard writes under `OUTPUT/shard-I-of-N/` with its own
/// lock, ledger, outputs, error report and summary; `sluice summary merge` combines the
/// summaries.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `I/N` with `0 ≤ I < N`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 1_000_000, i >= 0, i < n else { return nil }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// `shard-I-of-N`, the shard's directory under the output directory.
    public var directoryName: String { "shard-\(index)-of-\(count)" }

    /// Whether the file at `relativePath` belongs to this shard.
    public func contains(_ relativePath: String) -> Bool {
        Shard.bucket(of: relativePath, count: count) == index
    }

    static func bucket(of relativePath: String, count: Int) -> Int {
        var hash = Fingerprint()
        var path = relativePath
        path.withUTF8 { hash.update(UnsafeRawBufferPointer($0)) }
        return Int(hash.finish() % UInt64(count))
    }
}

extension RunOptions {
    /// The directory a run writes under: `OUTPUT/shard-I-of-N` for a shard run.
    func outputRoot(config: PipelineConfig) -> String {
        let root = outputPath ?? config.output.path
        guard let shard else { return root }
        return URL(fileURLWithPath: root).appendingPathComponent(shard.directoryName).path
    }
}
