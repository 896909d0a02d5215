import SluiceCore

/// `round(field * 10^k)` (either way round, `k` 0...15) written as text straight from the
/// field's number literal — `486.18` with `k` = 2 is `48618` — without the `Double`
/// conversion, the multiplication, the rounding and the integer formatting of the general
/// path (``CallNode/evaluateRound(_:)``), which the bench's `round(total * 100)` paid for
/// every record (~400 instructions of select's ~1,500).
///
/// It applies to a literal without an exponent whose fraction has at most `k` digits and
/// whose integer part has at most `15 - k` digits: the exact product `N` is then an integer
/// with `|N| < 10^15 < 2^50`. The general path gives the same `N`: the literal parses to
/// `x = v(1 + d1)` and the product rounds to `y = x·10^k(1 + d2)` with `|d1|, |d2| ≤ 2^-53`
/// (`10^k` is exact in a `Double`), so `|y - N| ≤ |N|·2^-52 < 0.25`, and rounding to the
/// nearest integer gives `N` (a `-0` result is the integer 0, written `0`). Anything else —
/// an exponent, more fraction digits (a product that may end in `.5`, where the `Double`
/// of the literal decides the rounding), more digits — is left to the general path.
enum ScaledRound {
    /// The largest `k` (and the most digits of `N`) the exact path takes.
    static let maxDigits = 15

    /// Writes the decimal text of `round(x * 10^power)` for the validated JSON number
    /// literal `x` in `source[0..<count]` to `out`; returns how many bytes it wrote, or -1
    /// (nothing meaningful written) when the literal is outside the exact path (see above).
    ///
    /// - Parameters:
    ///   - readable: how many bytes from `source` on may be loaded (at least `count`).
    ///   - out: room for ``room(count:power:)`` bytes; those past the result are scratch.
    @inline(__always)
    static func write(_ source: UnsafePointer<UInt8>, count: Int, readable: Int, power: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let negative = source[0] == UInt8(ascii: "-")
        let first = negative ? 1 : 0
        let length = count &- first
        guard length >= 1, length <= 8, readable &- first >= 8 else {
            return writeByBytes(source, count: count, power: power, to: out)
        }
        // The literal (at most 8 characters) as one word, the first character lowest; the
        // indexer validated the grammar `-?(0|[1-9]digits)(.digits)?([eE][+-]?digits)?`.
        let keep = UInt64.max &>> UInt64(64 &- 8 &* length)
        let chars = UInt64(littleEndian: UnsafeRawPointer(source + first).loadUnaligned(as: UInt64.self)) & keep
        let x = chars ^ (0x3030_3030_3030_3030 & keep)
        // Every character of a number xors to below 0x80: adding 0x76 sets a byte's top bit
        // exactly when it is above 9 (the `.`, an `e`, a sign), without a carry.
        let above9 = (x &+ 0x7676_7676_7676_7676) & 0x8080_8080_8080_8080 & keep
        var digits = chars
        var digitCount = length
        var integerDigits = length
        var fractionDigits = 0
        if above9 != 0 {
            guard above9 & (above9 &- 1) == 0 else { return -1 }  // an exponent
            let dot = above9.trailingZeroBitCount &>> 3
            guard (x &>> UInt64(dot &* 8)) & 0xFF == UInt64(UInt8(ascii: ".") ^ 0x30) else { return -1 }
            // The grammar puts digits on both sides of the `.`: dot is 1...length-2.
            let below = (UInt64(1) &<< UInt64(dot &* 8)) &- 1
            digits = chars & below | (chars &>> UInt64((dot &+ 1) &* 8)) &<< UInt64(dot &* 8)
            digitCount = length &- 1
            integerDigits = dot
            fractionDigits = length &- 1 &- dot
        }
        guard fractionDigits <= power, integerDigits &+ power <= maxDigits else { return -1 }
        // Leading zero digits (`0.05`) xor to zero bytes at the low end.
        let values = digits ^ (0x3030_3030_3030_3030 & (UInt64.max &>> UInt64(64 &- 8 &* digitCount)))
        if values == 0 {
            // Every digit zero: the result is 0, without a sign.
            out[0] = UInt8(ascii: "0")
            return 1
        }
        let leading = values.trailingZeroBitCount &>> 3
        digits &>>= UInt64(leading &* 8)
        digitCount &-= leading
        var o = 0
        if negative {
            out[0] = UInt8(ascii: "-")
            o = 1
        }
        let to = UnsafeMutableRawPointer(out)
        to.storeBytes(of: digits.littleEndian, toByteOffset: o, as: UInt64.self)
        o &+= digitCount
        // At most 15 zeros: two whole words, the bytes past them scratch.
        let zeros = UInt64(0x3030_3030_3030_3030)
        to.storeBytes(of: zeros, toByteOffset: o, as: UInt64.self)
        to.storeBytes(of: zeros, toByteOffset: o &+ 8, as: UInt64.self)
        return o &+ power &- fractionDigits
    }

    /// The room ``write(_:count:readable:power:to:)`` needs for a literal of `count` bytes.
    @inline(__always)
    static func room(count: Int, power: Int) -> Int { count &+ power &+ 16 }

    /// ``write(_:count:readable:power:to:)`` a byte at a time: for a literal longer than 8
    /// characters, or one whose word would run past the readable bytes.
    static func writeByBytes(_ source: UnsafePointer<UInt8>, count: Int, power: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let negative = source[0] == UInt8(ascii: "-")
        let signed = negative ? 1 : 0
        var j = signed
        var o = signed
        var integerDigits = 0
        var fractionDigits = 0
        var inFraction = false
        while j < count {
            let c = source[j]
            if c &- UInt8(ascii: "0") < 10 {
                // Leading zeros are not written (`0.05` is `5`); the sign stays in place.
                if o > signed || c != UInt8(ascii: "0") {
                    out[o] = c
                    o &+= 1
                }
                if inFraction { fractionDigits &+= 1 } else { integerDigits &+= 1 }
            } else if c == UInt8(ascii: ".") {
                inFraction = true
            } else {
                return -1  // an exponent
            }
            j &+= 1
        }
        guard fractionDigits <= power, integerDigits &+ power <= maxDigits else { return -1 }
        if negative { out[0] = UInt8(ascii: "-") }
        if o == signed {
            // Every digit zero: the result is 0, without a sign.
            out[0] = UInt8(ascii: "0")
            return 1
        }
        var zeros = power &- fractionDigits
        while zeros > 0 {
            out[o] = UInt8(ascii: "0")
            o &+= 1
            zeros &-= 1
        }
        return o
    }
}

extension ArithmeticNode {
    /// For `path * 10^k` or `10^k * path` (`k` in 0...``ScaledRound/maxDigits``, a path
    /// of keys with a slot in its stage's ``FieldSet``): that slot and `k`; nil otherwise.
    var scaledPath: (slot: Int, power: Int)? {
        guard op == .multiply, let field = numberFieldNode, case .int(let constant) = numberConstantValue, constant > 0 else { return nil }
        let slot = field.lookup.slot
        guard slot >= 0 else { return nil }
        var power = 0
        var rest = constant
        while rest % 10 == 0 {
            rest /= 10
            power += 1
        }
        guard rest == 1, power <= ScaledRound.maxDigits else { return nil }
        return (slot, power)
    }
}

extension CallNode {
    /// For `round(path * 10^k)` (see ``ArithmeticNode/scaledPath``): the path's slot and
    /// `k`, for ``ScaledRound/write(_:count:power:to:)``; nil otherwise.
    var scaledRoundOfPath: (slot: Int, power: Int)? {
        guard isRound, let argument = arguments.first as? ArithmeticNode else { return nil }
        return argument.scaledPath
    }
}
