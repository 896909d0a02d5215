#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable array of plain values in memory it manages itself, for the XML callbacks'
/// hot path: no copy-on-write uniqueness check and no reference counting per access, as a
/// Swift `Array` stored in a struct reached through a pointer would cost.
///
/// It is a value with pointer semantics: copies share the storage, and the owner frees it
/// exactly once with ``deallocate()``.
struct XMLScratch<Element: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    fileprivate var capacity: Int

    init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    package func deallocate() { base.deallocate() }

    var isEmpty: Bool { count == 0 }
    var last: Element? { count > 0 ? base[count - 1] : nil }

    /// Element `i`; `i` must be below ``count``. Addressed in place, so setting one field
    /// of a large element stores that field only (no copy of the whole element).
    @inline(__always)
    subscript(i: Int) -> Element {
        unsafeAddress { UnsafePointer(base + i) }
        nonmutating unsafeMutableAddress { base + i }
    }

    @inline(__always)
    subscript(i: Int32) -> Element {
        unsafeAddress { UnsafePointer(base + Int(i)) }
        nonmutating unsafeMutableAddress { base + Int(i) }
    }

    /// The address of element `i`, to read several fields without copying the element.
    @inline(__always)
    func pointer(_ i: Int32) -> UnsafeMutablePointer<Element> { base + Int(i) }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow(to: count + 1) }
        (base + count).initialize(to: element)
        count += 1
    }

    @inline(__always)
    mutating func append(_ elements: UnsafePointer<Element>, count n: Int) {
        guard n > 0 else { return }
        if capacity - count < n { grow(to: count + n) }
        (base + count).update(from: elements, count: n)
        count += n
    }

    mutating func removeLast() { count -= 1 }

    /// Drops the elements; keeps the memory.
    mutating func removeAll() { count = 0 }

    /// Forgets the elements from `start` on.
    mutating func truncate(to start: Int) { count = min(count, max(0, start)) }

    fileprivate mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }
}

extension XMLScratch where Element == UInt8 {
    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if let start = bytes.baseAddress { appendBytes(start, count: bytes.count) }
    }

    /// Appends `n` bytes; short runs (names, most values) are copied inline instead of
    /// through a `memmove` call: two overlapping words (8 + 8 or 4 + 4 bytes) or up to
    /// three single bytes, never reading outside `bytes[0..<n]`.
    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafePointer<UInt8>, count n: Int) {
        guard n <= 16 else {
            append(bytes, count: n)
            return
        }
        if capacity - count < 16 { grow(to: count + 16) }
        let target = UnsafeMutableRawPointer(base + count)
        let source = UnsafeRawPointer(bytes)
        if n >= 8 {
            target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self), toByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self), toByteOffset: n - 4, as: UInt32.self)
        } else if n > 0 {
            target.storeBytes(of: bytes[0], as: UInt8.self)
            target.storeBytes(of: bytes[n >> 1], toByteOffset: n >> 1, as: UInt8.self)
            target.storeBytes(of: bytes[n - 1], toByteOffset: n - 1, as: UInt8.self)
        }
        count += n
    }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// Appends `text` with JSON string escapes (`"`, `\` and control characters), copying
    /// clean runs in bulk; the same output as ``JSONWriter/appendEscaped(_:to:)``.
    mutating func appendJSONEscaped(_ p: UnsafePointer<UInt8>, count n: Int) {
        JSONEscaping.scan(p, count: n) { run, count in
            appendBytes(run, count: count)
        } special: { c in
            var (packed, count) = JSONEscaping.escape(c)
            for _ in 0..<count {
                append(UInt8(truncatingIfNeeded: packed))
                packed >>= 8
            }
        }
    }

    /// The high bit of each byte of `w` (little-endian) that is `"`, `\`, below 0x20 or
    /// non-ASCII; zero exactly when there is none (bits above a hit may be set spuriously).
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = w ^ (ones &* 0x22)
        let slash = w ^ (ones &* 0x5C)
        return (((quote &- ones) & ~quote) | ((slash &- ones) & ~slash) | ((w &- ones &* 0x20) & ~w) | w) & (ones &* 0x80)
    }

    /// Bit of ``appendJSONEscapedChecked(_:count:)``'s answer: a byte sequence that is not
    /// well-formed UTF-8 (as ``JSONIndexer`` judges strings) was copied.
    static var malformedUTF8: UInt8 { 2 }

    /// As ``appendJSONEscaped(_:count:)`` (the same bytes out), and says what the JSON
    /// indexer would find in the string: ``TapeEntry/hasEscapes`` when an escape was
    /// written, ``malformedUTF8`` when a non-ASCII sequence is not well-formed UTF-8.
    /// Eight bytes are checked at once where all are plain ASCII.
    mutating func appendJSONEscapedChecked(_ p: UnsafePointer<UInt8>, count n: Int) -> UInt8 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let raw = UnsafeRawPointer(p)
        if n <= 16 {
            // Most values: all bytes checked with two (overlapping) words; clean ones are
            // copied at once.
            guard n > 0 else { return 0 }
            var special: UInt64
            if n >= 8 {
                special = XMLScratch.specialBytes(UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)))
                    | XMLScratch.specialBytes(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)))
            } else if n >= 4 {
                let w = UInt64(raw.loadUnaligned(as: UInt32.self)) | UInt64(raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) << 32
                special = XMLScratch.specialBytes(w)
            } else {
                // The three bytes (some twice) over plain letters.
                let w = 0x4141_4141_4100_0000 | UInt64(p[0]) | UInt64(p[n >> 1]) << 8 | UInt64(p[n - 1]) << 16
                special = XMLScratch.specialBytes(w)
            }
            if special == 0 {
                appendBytes(p, count: n)
                return 0
            }
        }
        var outcome: UInt8 = 0
        var run = 0  // start of the pending clean run
        var i = 0
        while i < n {
            if i + 8 <= n {
                let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                let quote = w ^ (ones &* 0x22)
                let slash = w ^ (ones &* 0x5C)
                let hits = (((quote &- ones) & ~quote) | ((slash &- ones) & ~slash) | ((w &- ones &* 0x20) & ~w) | w) & (ones &* 0x80)
                if hits == 0 {
                    i += 8
                    continue
                }
                i += hits.trailingZeroBitCount >> 3
            } else if n >= 8 && XMLScratch.specialBytes(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))) == 0 {
                // The last bytes, in a word that overlaps bytes already handled.
                i = n
                continue
            }
            let c = p[i]
            if c >= 0x80 {
                // Copied as is; validated as the indexer does (the same function).
                let length = JSONParser(p: p, start: 0, end: n, limit: n, maxDepth: 0).utf8SequenceLength(at: i)
                if length == 0 {
                    outcome |= XMLScratch.malformedUTF8
                    i += 1
                } else {
                    i += length
                }
                continue
            }
            guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else {
                i += 1
                continue
            }
            if i > run { appendBytes(p + run, count: i - run) }
            var (packed, count) = JSONEscaping.escape(c)
            for _ in 0..<count {
                append(UInt8(truncatingIfNeeded: packed))
                packed >>= 8
            }
            outcome |= TapeEntry.hasEscapes
            i += 1
            run = i
        }
        if n > run { appendBytes(p + run, count: n - run) }
        return outcome
    }
}

/// ``XMLScratch`` for tape nodes (``TapeEntry`` is a public struct of plain fields, not
/// declared `BitwiseCopyable`): the record's tape, reused from record to record.
struct XMLTapeScratch {
    private(set) var base: UnsafeMutablePointer<TapeEntry>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    func deallocate() { base.deallocate() }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    func pointer(_ i: Int) -> UnsafeMutablePointer<TapeEntry> { base + i }

    @inline(__always)
    mutating func append(_ entry: TapeEntry) {
        if count == capacity { grow() }
        (base + count).initialize(to: entry)
        count += 1
    }

    private mutating func grow() {
        let grown = UnsafeMutablePointer<TapeEntry>.allocate(capacity: capacity * 2)
        grown.moveInitialize(from: base, count: count)
        base.deallocate()
        base = grown
        capacity *= 2
    }
}
