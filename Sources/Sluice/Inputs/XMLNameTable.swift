#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Interned, NUL-terminated names for ``XMLFastTokenizer``, as libxml2's dictionary
/// gives them: within one table, two names are equal exactly when their pointers are, so
/// ``XMLRecordTree`` groups and caches by pointer whichever tokenizer made the names.
///
/// Open addressing over a power-of-two table; the bytes live in arena blocks that are
/// freed once, with ``deallocate()``. A value with pointer semantics.
struct XMLNameTable {
    private struct Slot {
        var name: UnsafePointer<UInt8>?
        var length: Int32
        var hash: UInt32
    }

    private var slots: UnsafeMutablePointer<Slot>
    private var mask: Int
    private var used = 0
    private var blocks: [UnsafeMutablePointer<UInt8>] = []
    private var block: UnsafeMutablePointer<UInt8>
    private var blockUsed = 0
    private static let blockSize = 16 << 10

    init() {
        slots = .allocate(capacity: 256)
        slots.initialize(repeating: Slot(name: nil, length: 0, hash: 0), count: 256)
        mask = 255
        block = .allocate(capacity: XMLNameTable.blockSize)
        blocks.append(block)
    }

    func deallocate() {
        for b in blocks { b.deallocate() }
        slots.deallocate()
    }

    /// A hash of the name's bytes from at most two word loads (never outside `p[0..<n]`);
    /// FNV-1a past 16 bytes.
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        let raw = UnsafeRawPointer(p)
        var w: UInt64
        if n >= 8 {
            if n > 16 {
                var h: UInt32 = 2_166_136_261
                for i in 0..<n { h = (h ^ UInt32(p[i])) &* 16_777_619 }
                return h
            }
            w = raw.loadUnaligned(as: UInt64.self) &* 0x9E37_79B9_7F4A_7C15 ^ raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            w = UInt64(raw.loadUnaligned(as: UInt32.self)) << 32 | UInt64(raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        } else if n > 0 {
            w = UInt64(p[0]) << 16 | UInt64(p[n >> 1]) << 8 | UInt64(p[n - 1])
        } else {
            w = 0
        }
        w = (w ^ UInt64(n)) &* 0xFF51_AFD7_ED55_8CCD
        return UInt32(truncatingIfNeeded: w >> 32)
    }

    /// The interned copy of `p[0..<n]`.
    @inline(__always)
    mutating func intern(_ p: UnsafePointer<UInt8>, count n: Int) -> UnsafePointer<UInt8> {
        let h = XMLNameTable.hash(p, n)
        var i = Int(h) & mask
        while true {
            let slot = slots + i
            guard let name = slot.pointee.name else { break }
            if slot.pointee.hash == h && Int(slot.pointee.length) == n && XMLFastTokenizer.equal(name, p, n) { return name }
            i = (i + 1) & mask
        }
        let copy = store(p, n)
        slots[i] = Slot(name: copy, length: Int32(n), hash: h)
        used += 1
        if used * 2 > mask { grow() }
        return copy
    }

    private mutating func store(_ p: UnsafePointer<UInt8>, _ n: Int) -> UnsafePointer<UInt8> {
        if n + 1 > XMLNameTable.blockSize / 4 {
            let own = UnsafeMutablePointer<UInt8>.allocate(capacity: n + 1)
            own.update(from: p, count: n)
            own[n] = 0
            blocks.append(own)
            return UnsafePointer(own)
        }
        if blockUsed + n + 1 > XMLNameTable.blockSize {
            block = .allocate(capacity: XMLNameTable.blockSize)
            blocks.append(block)
            blockUsed = 0
        }
        let at = block + blockUsed
        at.update(from: p, count: n)
        at[n] = 0
        blockUsed += n + 1
        return UnsafePointer(at)
    }

    private mutating func grow() {
        let old = slots
        let oldCount = mask + 1
        let newCount = oldCount * 2
        let grown = UnsafeMutablePointer<Slot>.allocate(capacity: newCount)
        grown.initialize(repeating: Slot(name: nil, length: 0, hash: 0), count: newCount)
        let newMask = newCount - 1
        for j in 0..<oldCount {
            let slot = old[j]
            guard slot.name != nil else { continue }
            var i = Int(slot.hash) & newMask
            while grown[i].name != nil { i = (i + 1) & newMask }
            grown[i] = slot
        }
        old.deallocate()
        slots = grown
        mask = newMask
    }
}
