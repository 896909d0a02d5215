import SluiceCore

/// Collects the field paths one stage reads, so that they can be looked up together.
///
/// A stage creates one builder, passes it to every ``PathLookup`` and
/// ``CompiledExpression`` it compiles (each path made only of keys gets a *slot*; the same
/// path gets the same slot), then calls ``build()`` once. Not thread-safe: it is used
/// only while a stage is being made.
package final class FieldSetBuilder {
    fileprivate struct TrieNode {
        var key: [UInt8]
        var slot: Int
        var children: [Int] = []
    }

    /// Node 0 is the record itself (no key, no slot).
    fileprivate var nodes = [TrieNode(key: [], slot: -1)]
    fileprivate var slotCount = 0

    package init() {}

    /// The slot of `path`, or -1 when the path is not made only of keys (an index or
    /// `[*]` step, or no step): such a path is looked up on its own, as before.
    func slot(for path: FieldPath) -> Int {
        guard !path.steps.isEmpty else { return -1 }
        var keys: [[UInt8]] = []
        for step in path.steps {
            guard case .key(let key) = step else { return -1 }
            keys.append(key)
        }
        var node = 0
        for key in keys {
            if let child = nodes[node].children.first(where: { nodes[$0].key == key }) {
                node = child
            } else {
                nodes.append(TrieNode(key: key, slot: slotCount))
                slotCount += 1
                nodes[node].children.append(nodes.count - 1)
                node = nodes.count - 1
            }
        }
        return nodes[node].slot
    }

    /// The set of every path registered so far.
    package func build() -> FieldSet {
        FieldSet(self)
    }
}

/// The key paths a stage reads, resolved together: one pass over each object's members
/// (the record's, then `customer`'s for `customer.id` and `customer.country`) instead of
/// one scan from the first member per path.
///
/// ``resolve(in:root:into:)`` writes, per slot, the tape index of the path's value or -1
/// when it is missing, exactly as ``JSONView/member(of:key:)`` step by step would find it:
/// keys compare unescaped, byte for byte (`"\u0069d"` is `id`), the first of duplicate
/// keys wins (a later duplicate of a key already found is skipped), and a step into
/// something that is not an object is missing. A pass over an object stops as soon as
/// all the keys it looks for are found.
///
/// Immutable after init (unsafe buffers freed with the object), hence `Sendable`.
package final class FieldSet: @unchecked Sendable {
    struct Entry {
        var keyStart: Int
        var keyLength: Int
        var slot: Int
        /// The level of the keys looked up inside this member's value, or -1.
        var level: Int
    }

    struct Level {
        var first: Int
        var count: Int
        /// Bit `n % 64` set when a key of this level is `n` bytes long, so that a member
        /// whose (unescaped) key has no such length is passed over at once.
        var lengths: UInt64
        /// Where this level's 65 bucket bounds start in `buckets`: the level's entries are
        /// sorted by length modulo 64, and those of length `n` are among the entries
        /// `buckets[bucket + n % 64] ..< buckets[bucket + n % 64 + 1]`.
        var bucket: Int
    }

    /// How many slots ``resolve(in:root:into:)`` writes.
    package let slotCount: Int
    private let levels: UnsafeMutableBufferPointer<Level>
    private let entries: UnsafeMutableBufferPointer<Entry>
    private let keys: UnsafeMutableBufferPointer<UInt8>
    private let buckets: UnsafeMutableBufferPointer<Int32>

    fileprivate init(_ builder: FieldSetBuilder) {
        slotCount = builder.slotCount
        let trie = builder.nodes
        // Levels in breadth-first order: level 0 is the record's own members.
        var levelOfNode = [Int](repeating: -1, count: trie.count)
        var order: [Int] = []
        if !trie[0].children.isEmpty {
            order.append(0)
            levelOfNode[0] = 0
        }
        var q = 0
        while q < order.count {
            for child in trie[order[q]].children where !trie[child].children.isEmpty {
                levelOfNode[child] = order.count
                order.append(child)
            }
            q += 1
        }
        var flatLevels: [Level] = []
        var flatEntries: [Entry] = []
        var keyBytes: [UInt8] = []
        var bucketBounds: [Int32] = []
        for node in order {
            var lengths: UInt64 = 0
            let first = flatEntries.count
            // Shorter keys first (a stable sort: equal lengths keep their order).
            let children = trie[node].children.enumerated()
                .sorted { (trie[$0.element].key.count & 63, $0.offset) < (trie[$1.element].key.count & 63, $1.offset) }
                .map(\.element)
            for child in children {
                let key = trie[child].key
                lengths |= 1 << UInt64(key.count & 63)
                flatEntries.append(Entry(keyStart: keyBytes.count, keyLength: key.count, slot: trie[child].slot, level: levelOfNode[child]))
                keyBytes.append(contentsOf: key)
            }
            let bucket = bucketBounds.count
            var e = first
            for n in 0...64 {
                while e < flatEntries.count && flatEntries[e].keyLength & 63 < n { e += 1 }
                bucketBounds.append(Int32(e))
            }
            flatLevels.append(Level(first: first, count: flatEntries.count - first, lengths: lengths, bucket: bucket))
        }
        levels = .allocate(capacity: max(flatLevels.count, 1))
        _ = levels.initialize(from: flatLevels)
        if flatLevels.isEmpty { levels[0] = Level(first: 0, count: 0, lengths: 0, bucket: 0) }
        buckets = .allocate(capacity: max(bucketBounds.count, 1))
        _ = buckets.initialize(from: bucketBounds)
        entries = .allocate(capacity: max(flatEntries.count, 1))
        _ = entries.initialize(from: flatEntries)
        keys = .allocate(capacity: max(keyBytes.count, 1))
        _ = keys.initialize(from: keyBytes)
    }

    deinit {
        levels.deallocate()
        entries.deallocate()
        keys.deallocate()
        buckets.deallocate()
    }

    /// Members per object whose key and match are remembered from one record to the next.
    static let hintedMembers = 16
    /// `Int`s per level in the buffer: how many members the previous record's pass looked
    /// at, then per member its key's byte offset and length (quotes included, as
    /// written) and the entry it matched (-1: none).
    static let memoStride = 1 + 3 * hintedMembers

    /// How many `Int`s the buffer of ``prepare(_:)`` and ``resolve(in:root:into:)`` holds:
    /// the slots, then per level what the previous record's pass saw.
    package var bufferCount: Int { slotCount + levelCount * FieldSet.memoStride }
    private var levelCount: Int { slotCount > 0 ? levels.count : 0 }

    /// Readies a buffer of ``bufferCount`` values for a run of records (a batch): nothing
    /// is remembered yet.
    @inline(__always)
    package func prepare(_ buffer: UnsafeMutablePointer<Int>) {
        for s in 0..<bufferCount { buffer[s] = -1 }
    }

    /// Writes every slot for the record whose root node is `root`: the value's tape index,
    /// or -1 when the path is missing. `buffer` holds ``bufferCount`` values, readied by
    /// ``prepare(_:)`` and then used for consecutive records of one view (one batch).
    ///
    /// It remembers, per object level, the keys of the members the previous record's pass
    /// looked at and what each matched. A record whose members start with the same keys,
    /// written byte for byte the same, gets the same matches for them without a search —
    /// the outcome of a pass depends only on the sequence of keys, duplicates and escapes
    /// included — so only a byte comparison per member remains. From the first member
    /// that differs on, the search runs as if nothing were remembered, the remembered
    /// match of that position only choosing which key to compare first: a guess that
    /// matches nothing or another key is looked up as if there were no guess, so the result
    /// never depends on what was remembered.
    @inline(__always)
    package func resolve(in view: JSONView, root: Int, into buffer: UnsafeMutablePointer<Int>) {
        guard slotCount > 0 else { return }
        for s in 0..<slotCount { buffer[s] = -1 }
        scan(view, level: 0, object: root, buffer)
    }

    private func scan(_ view: JSONView, level levelIndex: Int, object: Int, _ slots: UnsafeMutablePointer<Int>) {
        let tape = view.tape
        let container = tape[object]
        guard container.kind == .object else { return }
        let level = levels[levelIndex]
        let memo = slots + (slotCount &+ levelIndex &* FieldSet.memoStride)
        var ordinal = 0
        var remaining = level.count
        let first = level.first
        let last = first + level.count
        let text = view.bytes.baseAddress!
        let byteCount = view.bytes.count
        let keyBase = keys.baseAddress!
        var k = object &+ 1
        let end = Int(container.next)
        // The members the previous record's pass looked at, while their keys are the same.
        let remembered = memo[0]
        while ordinal < remembered && k < end {
            let key = tape[k]
            let start = Int(key.start)
            let length = Int(key.end) &- start
            let seen = memo + 1 + 3 &* ordinal
            let seenStart = seen[0]
            guard length == seen[1], seenStart &+ length <= byteCount,
                  memoryEquals(text + start, text + seenStart, length) else { break }
            let match = seen[2]
            if match >= 0 {
                let entry = entries[match]
                slots[entry.slot] = k &+ 1
                if entry.level >= 0 { scan(view, level: entry.level, object: k &+ 1, slots) }
                remaining &-= 1
                if remaining == 0 { return }
            }
            ordinal &+= 1
            k = Int(tape[k &+ 1].next)
        }
        while k < end {
            let key = tape[k]
            var match = -1
            if key.kind == .string {
                let start = Int(key.start) &+ 1
                let length = Int(key.end) &- 1 &- start
                let guess = ordinal < FieldSet.hintedMembers ? memo[3 &+ 3 &* ordinal] : -1
                if guess >= 0, key.flags & TapeEntry.hasEscapes == 0, entries[guess].keyLength == length,
                   slots[entries[guess].slot] < 0, memoryEquals(text + start, keyBase + entries[guess].keyStart, length) {
                    match = guess
                } else if key.flags & TapeEntry.hasEscapes == 0 {
                    let n = length & 63
                    if level.lengths & (1 << UInt64(n)) != 0 {
                        var c = Int(buckets[level.bucket &+ n])
                        let bucketEnd = Int(buckets[level.bucket &+ n &+ 1])
                        while c < bucketEnd {
                            let entry = entries[c]
                            if entry.keyLength == length, slots[entry.slot] < 0,
                               memoryEquals(text + start, keyBase + entry.keyStart, length) {
                                match = c
                                break
                            }
                            c += 1
                        }
                    }
                } else {
                    // An escaped key decodes to at most as many bytes as it is written in.
                    for c in first..<last {
                        let entry = entries[c]
                        if entry.keyLength <= length, slots[entry.slot] < 0,
                           view.stringEquals(k, UnsafeBufferPointer(start: keyBase + entry.keyStart, count: entry.keyLength)) {
                            match = c
                            break
                        }
                    }
                }
            }
            if ordinal < FieldSet.hintedMembers {
                let seen = memo + 1 + 3 &* ordinal
                seen[0] = Int(key.start)
                seen[1] = Int(key.end &- key.start)
                seen[2] = match
                memo[0] = ordinal &+ 1
            }
            ordinal &+= 1
            if match >= 0 {
                let entry = entries[match]
                slots[entry.slot] = k &+ 1
                if entry.level >= 0 { scan(view, level: entry.level, object: k &+ 1, slots) }
                remaining &-= 1
                if remaining == 0 { return }
            }
            k = Int(tape[k &+ 1].next)
        }
    }
}
