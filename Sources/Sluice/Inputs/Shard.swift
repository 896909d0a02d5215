import Foundation

/// `--shard I/N`: one of N runs that split the input files between them.
///
/// **Balance.** The files are split by bytes, not by a hash of their path: every shard
/// scans the whole input, sorts every matched file by (size descending, relative path)
/// and deals them out greedily, each to the shard with the fewest bytes so far (the
/// lowest index on a tie). The split depends only on the directory listing (paths and
/// sizes) — not on which files any ledger holds, nor on which files other shards have
/// finished meanwhile — so the N shards of one job, listing the same directory, compute
/// the same split and each file is in exactly one of them. Adding files may move done
/// files to another shard; that is harmless, because every run also consults the other
/// ledgers (below). Caveat: a file that arrives, grows or disappears while the shards
/// of one job are starting can give two shards different listings and so different
/// splits: a file may then be processed by two shards of that job, or by none (the next
/// run takes it). Let files settle first (`input.min_age`), or write them elsewhere and
/// rename them in.
///
/// **Resharding.** Each shard writes under `OUTPUT/shard-I-of-N/` with its own lock,
/// ledger, outputs, error report and summary, but what is done does not live only
/// there: every run (sharded or not) also reads, read-only, the ledgers of every other
/// `shard-*-of-*` directory under the output directory and the unsharded ledger in the
/// output directory itself, and skips a file done there (same path, size and mtime; a
/// touched file is read and compared by fingerprint). So changing N, or running
/// unsharded after sharded runs (or sharded after unsharded), never processes a done
/// file again. A file in another directory's unfinished commit stops the run (exit 1)
/// naming it: only that directory's next run can tell whether it rolls forward.
/// `--full` ignores every ledger.
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

    /// Parses a shard directory's name, `shard-I-of-N`.
    public init?(directoryName name: String) {
        guard name.hasPrefix("shard-"), let range = name.range(of: "-of-") else { return nil }
        let i = name[name.index(name.startIndex, offsetBy: 6)..<range.lowerBound]
        let n = name[range.upperBound...]
        guard i.allSatisfy(\.isASCII), n.allSatisfy(\.isASCII), let shard = Shard(parsing: "\(i)/\(n)"),
              shard.directoryName == name else { return nil }
        self = shard
    }

    /// The files (of the whole scan) that belong to this shard, in scan order.
    public func select(_ files: [InputFile]) -> [InputFile] {
        let owners = Shard.assign(files.map { (path: $0.relativePath, size: $0.size) }, count: count)
        return zip(files, owners).filter { $0.1 == index }.map(\.0)
    }

    /// The shard (0..<count) of every file: by (size descending, path), each file goes to
    /// the shard with the fewest bytes so far, the lowest index on a tie. Deterministic:
    /// it depends only on the paths and sizes, not on their order.
    public static func assign(_ files: [(path: String, size: Int)], count: Int) -> [Int] {
        precondition(count >= 1)
        let order = files.indices.sorted { a, b in
            files[a].size != files[b].size ? files[a].size > files[b].size : files[a].path.utf8.lexicographicallyPrecedes(files[b].path.utf8)
        }
        var heap = LoadHeap(count: min(count, max(files.count, 1)))
        var owners = [Int](repeating: 0, count: files.count)
        for i in order { owners[i] = heap.take(adding: max(files[i].size, 0)) }
        return owners
    }
}

/// A binary min-heap of shards by (bytes assigned, index).
private struct LoadHeap {
    private var items: [(load: Int, index: Int)]

    /// Shards 0..<count with nothing assigned (already a heap: the loads are equal and
    /// the indices ascend).
    init(count: Int) { items = (0..<count).map { (0, $0) } }

    private func less(_ a: Int, _ b: Int) -> Bool {
        items[a].load != items[b].load ? items[a].load < items[b].load : items[a].index < items[b].index
    }

    /// The least-loaded shard, which then carries `bytes` more.
    mutating func take(adding bytes: Int) -> Int {
        let chosen = items[0].index
        items[0].load += bytes
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && less(l, m) { m = l }
            if r < items.count && less(r, m) { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return chosen
    }
}
