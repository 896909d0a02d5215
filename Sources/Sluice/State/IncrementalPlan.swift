import Foundation

/// Which scanned files a run processes, after the ledger, `input.min_age`, the retry cap
/// and `input.on_change` have had their say.
///
/// Skipping is decided without reading a file: a file whose path, size and mtime match
/// the ledger's entry is done. Only when the size is the same but the mtime moved is the
/// content fingerprint needed; the file is then read (and hashed while read) and, if the
/// fingerprint matches, its records are rolled back as ``ReorderingSink/Result/filesUnchanged``
/// — a touched file is read once more but never written twice. A file whose size changed
/// is changed, and `input.on_change` decides — unless it grew and `growth` finds that its
/// old bytes are unchanged (an NDJSON file appended to, see ``GrowthScan``): then only its
/// new records are read (``InputFile/start``), whatever `on_change` says.
///
/// `peers` are the other ledgers under the output directory (other shards', the
/// unsharded one): a file done in any of them is done (see ``Shard``); the run's own
/// ledger entry, else a peer's, decides between touched and changed.
package struct IncrementalPlan {
    package struct Item {
        package var file: InputFile
        /// The ledger's fingerprint, to tell a touched file from a changed one.
        package var expectedFingerprint: UInt64?

        package init(file: InputFile, expectedFingerprint: UInt64? = nil) {
            self.file = file
            self.expectedFingerprint = expectedFingerprint
        }
    }

    package var items: [Item] = []
    /// Done already (path, size and mtime match the ledger).
    var skippedDone = 0
    /// Modified less than `input.min_age` ago.
    var skippedYoung = 0
    /// Changed, with `on_change: skip`.
    var skippedChanged = 0
    /// Failed more than `max_retries + 1` times without changing.
    package var poison: [String] = []

    package init() {}

    package var skipped: Int { skippedDone + skippedYoung + skippedChanged + poison.count }

    /// Files whose ledger entries one read transaction looks up.
    static let lookupChunk = 1024

    package static func make(files: [InputFile], ledger: Ledger?, pipeline: String, config: IncrementalConfig,
                             full: Bool, retryFailed: Bool, peers: [Ledger.PeerView] = [], now: Date = Date(),
                             growth: (InputFile, Ledger.Entry) -> ReadStart? = { _, _ in nil }) throws(LedgerError) -> IncrementalPlan {
        var plan = IncrementalPlan()
        let youngest = Int((now.timeIntervalSince1970 - config.minAge) * 1e9)
        // The ledger is read a chunk of files at a time, in one transaction per chunk (see
        // ``Ledger/records(pipeline:paths:entries:failures:)``): memory stays bounded and no
        // lock is held while `growth` reads a file.
        var records: [Ledger.Record] = []
        for (position, original) in files.enumerated() {
            var file = original
            let slot = position % lookupChunk
            if slot == 0 {
                let chunk = files[position..<min(files.count, position + lookupChunk)].lazy.map(\.relativePath)
                records = try ledger?.records(pipeline: pipeline, paths: chunk, entries: !full, failures: !retryFailed) ?? []
            }
            let record = slot < records.count ? records[slot] : Ledger.Record()
            if config.minAge > 0, file.problem == nil, file.mtime > youngest {
                plan.skippedYoung += 1
                continue
            }
            if !retryFailed, let failures = record.failures,
               failures.size == file.size, failures.mtime == file.mtime, failures.count > config.maxRetries {
                plan.poison.append(file.relativePath)
                continue
            }
            var expected: UInt64?
            let own = full ? nil : record.entry
            let others = full ? [] : peers.compactMap { $0.done[file.relativePath] }
            if let entry = own ?? others.first(where: { $0.size == file.size }) ?? others.first {
                if (own.map { [$0] } ?? []).contains(where: { $0.size == file.size && $0.mtime == file.mtime })
                    || others.contains(where: { $0.size == file.size && $0.mtime == file.mtime }) {
                    plan.skippedDone += 1
                    continue
                }
                if entry.size == file.size, let value = UInt64(entry.fingerprint, radix: 16) {
                    expected = value   // maybe only touched: the read will tell
                }
                if entry.size < file.size, let start = growth(file, entry) {
                    file.start = start   // appended to: not a change
                } else {
                    switch config.onChange {
                    case .reprocess:
                        break
                    case .skip:
                        // Touched or changed, it is left alone: no need to read it to know.
                        plan.skippedChanged += 1
                        continue
                    case .error:
                        if expected == nil, file.problem == nil {
                            file.problem = "changed since run \(entry.runID) processed it (\(entry.size) → \(file.size) bytes) and input.on_change is error"
                        }
                    }
                }
            }
            if let peer = peers.first(where: { $0.pending[file.relativePath] != nil }) {
                throw .refused(path: URL(fileURLWithPath: peer.directory).appendingPathComponent(Ledger.fileName).path,
                               reason: "holds an unfinished commit (run \(peer.pending[file.relativePath] ?? "")) that includes \(file.relativePath), which this run would process: whether that commit rolls forward or back is for that directory's next run to decide",
                               advice: "Run sluice once more over \(peer.directory) (the same --shard as its directory name, or unsharded) so that it recovers, then run this again.")
            }
            plan.items.append(Item(file: file, expectedFingerprint: expected))
        }
        return plan
    }
}
