import Foundation
import SluiceIO

extension RunOptions {
    /// The output directory given by the config or `--output`, shard or not.
    func baseOutputRoot(config: PipelineConfig) -> String {
        outputPath ?? config.output.path
    }

    /// The directory a run writes under: `OUTPUT/shard-I-of-N` for a shard run.
    func outputRoot(config: PipelineConfig) -> String {
        let root = baseOutputRoot(config: config)
        guard let shard else { return root }
        return URL(fileURLWithPath: root).appendingPathComponent(shard.directoryName).path
    }

    /// This run's files of the whole scan: all of them, or its shard's.
    func shardFiles(_ scanned: [InputFile]) -> [InputFile] {
        shard.map { $0.select(scanned) } ?? scanned
    }

    /// The other ledgers under the output directory — the unsharded one and every
    /// `shard-I-of-N/` one but this run's — read-only (none with `--full`).
    func peerLedgers(config: PipelineConfig) throws(LedgerError) -> [Ledger.PeerView] {
        if full { return [] }
        let base = baseOutputRoot(config: config)
        let own = URL(fileURLWithPath: outputRoot(config: config)).standardizedFileURL.path
        var directories = [base]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        for name in names.sorted() where Shard(directoryName: name) != nil {
            directories.append(URL(fileURLWithPath: base).appendingPathComponent(name).path)
        }
        var views: [Ledger.PeerView] = []
        for directory in directories where URL(fileURLWithPath: directory).standardizedFileURL.path != own {
            views.append(try Ledger.peerView(directory: directory, pipeline: config.name))
        }
        return views
    }
}
