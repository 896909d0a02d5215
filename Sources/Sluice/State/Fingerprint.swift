/// A streaming 64-bit content fingerprint (the XXH64 algorithm, written here), fed with
/// the raw bytes of an input file as the reader reads them, so that fingerprinting costs
/// no second read. Not cryptographic: it tells a touched file from a changed one, it does
/// not defend against a crafted collision.
///
/// ```swift
/// var hash = Fingerprint()
/// hash.update(buffer)           // any chunking gives the same result
/// let value = hash.finish()     // e.g. "ef46db3751d8e999" for no bytes, as hex()
/// ```
package struct Fingerprint {
    private static let p1: UInt64 = 11_400_714_785_074_694_791
    private static let p2: UInt64 = 14_029_467_366_897_019_727
    private static let p3: UInt64 = 1_609_587_929_392_839_161
    private static let p4: UInt64 = 9_650_029_242_287_828_579
    private static let p5: UInt64 = 2_870_177_450_012_600_261

    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64
    private var v4: UInt64
    private let seed: UInt64
    private var total = 0
    // Bytes of an unfinished 32-byte stripe.
    private var tail = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    private var tailCount = 0

    init(seed: UInt64 = 0) {
        self.seed = seed
        v1 = seed &+ Fingerprint.p1 &+ Fingerprint.p2
        v2 = seed &+ Fingerprint.p2
        v3 = seed
        v4 = seed &- Fingerprint.p1
    }

    @inline(__always) private static func round(_ acc: UInt64, _ lane: UInt64) -> UInt64 {
        var acc = acc &+ lane &* p2
        acc = (acc << 31) | (acc >> 33)
        return acc &* p1
    }

    @inline(__always) private static func merge(_ acc: UInt64, _ v: UInt64) -> UInt64 {
        let acc = acc ^ round(0, v)
        return acc &* p1 &+ p4
    }

    @inline(__always) private static func load(_ p: UnsafeRawPointer) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
    }

    /// Feeds `bytes`.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        total += remaining
        if tailCount > 0 {
            let take = min(32 - tailCount, remaining)
            let offset = tailCount
            let source = p
            withUnsafeMutableBytes(of: &tail) { $0.baseAddress!.advanced(by: offset).copyMemory(from: source, byteCount: take) }
            tailCount += take
            p += take
            remaining -= take
            guard tailCount == 32 else { return }
            var full = tail
            withUnsafeBytes(of: &full) { stripe($0.baseAddress!) }
            tailCount = 0
        }
        while remaining >= 32 {
            stripe(p)
            p += 32
            remaining -= 32
        }
        if remaining > 0 {
            let source = p, count = remaining
            withUnsafeMutableBytes(of: &tail) { $0.baseAddress!.copyMemory(from: source, byteCount: count) }
            tailCount = remaining
        }
    }

    @inline(__always) private mutating func stripe(_ p: UnsafeRawPointer) {
        v1 = Fingerprint.round(v1, Fingerprint.load(p))
        v2 = Fingerprint.round(v2, Fingerprint.load(p + 8))
        v3 = Fingerprint.round(v3, Fingerprint.load(p + 16))
        v4 = Fingerprint.round(v4, Fingerprint.load(p + 24))
    }

    /// The hash of every byte fed so far.
    func finish() -> UInt64 {
        var h: UInt64
        if total >= 32 {
            h = ((v1 << 1) | (v1 >> 63)) &+ ((v2 << 7) | (v2 >> 57)) &+ ((v3 << 12) | (v3 >> 52)) &+ ((v4 << 18) | (v4 >> 46))
            h = Fingerprint.merge(h, v1)
            h = Fingerprint.merge(h, v2)
            h = Fingerprint.merge(h, v3)
            h = Fingerprint.merge(h, v4)
        } else {
            h = seed &+ Fingerprint.p5
        }
        h = h &+ UInt64(total)
        var copy = tail
        withUnsafeBytes(of: &copy) { raw in
            var p = raw.baseAddress!
            var remaining = tailCount
            while remaining >= 8 {
                h ^= Fingerprint.round(0, Fingerprint.load(p))
                h = ((h << 27) | (h >> 37)) &* Fingerprint.p1 &+ Fingerprint.p4
                p += 8
                remaining -= 8
            }
            if remaining >= 4 {
                h ^= UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))) &* Fingerprint.p1
                h = ((h << 23) | (h >> 41)) &* Fingerprint.p2 &+ Fingerprint.p3
                p += 4
                remaining -= 4
            }
            while remaining > 0 {
                h ^= UInt64(p.load(as: UInt8.self)) &* Fingerprint.p5
                h = ((h << 11) | (h >> 53)) &* Fingerprint.p1
                p += 1
                remaining -= 1
            }
        }
        h ^= h >> 33
        h = h &* Fingerprint.p2
        h ^= h >> 29
        h = h &* Fingerprint.p3
        h ^= h >> 32
        return h
    }

    /// 16 lowercase hex digits, as the ledger stores it.
    package static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
