#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// The string kernel of ``JSONParser``: finds the first byte of a string's body that the
/// parser must look at — a quote, a backslash, a control character (below 0x20) or a
/// non-ASCII byte (0x80 and up) — skipping every plain ASCII byte before it in wide steps.
///
/// Two implementations compute the same answer: ``SWARStringScan`` (eight bytes in a
/// 64-bit word, any architecture) and, on x86_64, ``SSE2StringScan`` (sixteen bytes per
/// step; SSE2 is part of the x86-64 baseline, so no run-time CPU check).
/// ``DefaultStringScan`` is the one the indexer uses; tests run both.
package protocol JSONStringScan {
    /// The index of the first quote, backslash, control or non-ASCII byte in
    /// `p[from..<end]`, or some index ≥ `end` when there is none.
    ///
    /// Whole steps may read past `end` up to `limit` (exclusive; `limit >= end`), never
    /// further: a caller passes the end of the buffer that holds the text.
    static func stop(_ p: UnsafePointer<UInt8>, from: Int, end: Int, limit: Int) -> Int

    /// ``stop(_:from:end:limit:)`` with `stepEnd`, `Swift.min(end, limit - 15)`, which the
    /// parser computes once per text rather than once per string (its loop has no spare
    /// register to keep `limit` in: about 3 instructions a string, bench/RESULTS.md).
    static func stop(_ p: UnsafePointer<UInt8>, from: Int, end: Int, limit: Int, stepEnd: Int) -> Int
}

extension JSONStringScan {
    @inline(__always)
    package static func stop(_ p: UnsafePointer<UInt8>, from: Int, end: Int, limit: Int, stepEnd: Int) -> Int {
        stop(p, from: from, end: end, limit: limit)
    }
}

#if arch(x86_64)
/// The kernel the indexer uses on this architecture.
package typealias DefaultStringScan = SSE2StringScan
#else
/// The kernel the indexer uses on this architecture.
package typealias DefaultStringScan = SWARStringScan
#endif

/// Eight bytes per step in a 64-bit word (SWAR); then byte by byte within the last word.
package enum SWARStringScan: JSONStringScan {
    @inline(__always)
    package static func stop(_ p: UnsafePointer<UInt8>, from: Int, end: Int, limit: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        var j = from
        while j < end && j &+ 8 <= limit {
            let w = UInt64(littleEndian: UnsafeRawPointer(p + j).loadUnaligned(as: UInt64.self))
            let quote = w ^ (ones &* 0x22)
            let slash = w ^ (ones &* 0x5C)
            let hits = (((quote &- ones) & ~quote) | ((slash &- ones) & ~slash) | ((w &- ones &* 0x20) & ~w) | w) & (ones &* 0x80)
            // The lowest flagged byte is a real hit (false positives only sit above one).
            if hits != 0 { return j &+ hits.trailingZeroBitCount >> 3 }
            j &+= 8
        }
        while j < end {
            let c = p[j]
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 { return j }
            j &+= 1
        }
        return end
    }
}

#if arch(x86_64)
/// Sixteen bytes per step with SSE2: two byte compares (quote, backslash) and one signed
/// compare below 0x20, which is true for the control characters and, the bytes being
/// signed, for every byte ≥ 0x80 too; one movemask gives a bit per byte. Within the last
/// sixteen bytes of the buffer it hands over to ``SWARStringScan``.
package enum SSE2StringScan: JSONStringScan {
    @inline(__always)
    package static func stop(_ p: UnsafePointer<UInt8>, from: Int, end: Int, limit: Int) -> Int {
        stop(p, from: from, end: end, limit: limit, stepEnd: Swift.min(end, limit &- 15))
    }

    @inline(__always)
    package static func stop(_ p: UnsafePointer<UInt8>, from: Int, end: Int, limit: Int, stepEnd: Int) -> Int {
        var j = from
        let quote = _mm_set1_epi8(0x22), slash = _mm_set1_epi8(0x5C), space = _mm_set1_epi8(0x20)
        // One compare a step: below `stepEnd` a step starts before `end` and ends by `limit`.
        while j < stepEnd {
            let v = _mm_loadu_si128(UnsafeRawPointer(p + j).assumingMemoryBound(to: __m128i.self))
            let special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)), _mm_cmplt_epi8(v, space))
            let mask = _mm_movemask_epi8(special)
            if mask != 0 { return j &+ Int(mask.trailingZeroBitCount) }
            j &+= 16
        }
        return SWARStringScan.stop(p, from: j, end: end, limit: limit)
    }
}
#endif
