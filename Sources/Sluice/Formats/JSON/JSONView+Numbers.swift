/// Converting number nodes.
extension JSONView {
    /// The value of number node `i`, or nil when it is not a number.
    ///
    /// An integer literal that fits `Int64` is `.int`; `-0` is `.double(-0.0)` (its sign
    /// would be lost as an integer); a larger integer, a fraction or an exponent is
    /// `.double`, correctly rounded, infinite past the `Double` range (`1e400`).
    public func number(_ i: Int) -> JSONNumber? {
        let e = tape[i]
        guard e.kind == .number else { return nil }
        let start = Int(e.start)
        let end = Int(e.end)
        if e.flags & TapeEntry.isInteger != 0 {
            if let value = integer(start, end) { return value }
        } else if let value = shortDecimal(start, end) {
            return .double(value)
        }
        return .double(double(start, end))
    }

    /// ``number(_:)`` without its fast path for short decimals: what the fast path must
    /// equal (tests compare the two).
    func generalNumber(_ i: Int) -> JSONNumber? {
        let e = tape[i]
        guard e.kind == .number else { return nil }
        let start = Int(e.start)
        let end = Int(e.end)
        if e.flags & TapeEntry.isInteger != 0, let value = integer(start, end) {
            return value
        }
        return .double(double(start, end))
    }

    /// The common non-integer literal without a loop: `-` and at most 8 characters of
    /// `digits.digits` (`486.18`, `-0.5`, `12345.67`), read as one 8-byte word. The
    /// characters are xor-ed with `0` (digits become 0–9), the one byte above 9 must be
    /// the `.`, the digits on either side are joined into one run and converted with
    /// three multiplications. At most 7 digits make a mantissa far below 2^53, and there
    /// are at most 6 fraction digits: one exact conversion and one division by an exact
    /// power of ten, the single rounding of ``plainDouble(_:_:)`` (whose bounds these are
    /// within), so the same value. nil for anything else — an exponent, more characters,
    /// a literal whose word would run past the buffer — which takes the general path.
    /// The indexer validated the grammar: `-?digits(.digits)?([eE][+-]?digits)?`.
    @inline(__always)
    private func shortDecimal(_ start: Int, _ end: Int) -> Double? {
        guard let base = bytes.baseAddress else { return nil }
        let negative = base[start] == UInt8(ascii: "-")
        let first = negative ? start &+ 1 : start
        let length = end &- first
        guard length <= 8, first &+ 8 <= bytes.count else { return nil }
        let word = UInt64(littleEndian: UnsafeRawPointer(base + first).loadUnaligned(as: UInt64.self))
        let keep = UInt64.max &>> UInt64(64 &- 8 &* length)
        let x = (word ^ 0x3030_3030_3030_3030) & keep
        // Shifts mask their count (`&>>`): every count here is below 64 by construction.
        // Every character of a number xors to below 0x80, so adding 0x76 sets a byte's top
        // bit exactly when it is above 9, without a carry into the next byte.
        let above9 = (x &+ 0x7676_7676_7676_7676) & 0x8080_8080_8080_8080 & keep
        guard above9 != 0, above9 & (above9 &- 1) == 0 else { return nil }
        let dot = UInt64(above9.trailingZeroBitCount >> 3)
        guard (x &>> (dot &* 8)) & 0xFF == UInt64(UInt8(ascii: ".") ^ 0x30) else { return nil }
        // The grammar puts digits on both sides of the `.`: dot is 1...length-2.
        let digits = x & ((1 &<< (dot &* 8)) &- 1) | (x &>> ((dot &+ 1) &* 8)) &<< (dot &* 8)
        let count = UInt64(length &- 1)
        // Right-align the digits (leading zero digits fill the low bytes), then pairs,
        // quads and the eight: the first character is the most significant digit.
        var v = digits &<< ((8 &- count) &* 8)
        v = (v &* 10) &+ (v >> 8)
        v = (((v & 0x0000_00FF_0000_00FF) &* (100 &+ (1_000_000 << 32)))
            &+ (((v >> 16) & 0x0000_00FF_0000_00FF) &* (1 &+ (10_000 << 32)))) >> 32 & 0xFFFF_FFFF
        let fraction = Int(count &- dot)
        let value = Double(v) / JSONView.shortPowersOfTen[fraction]
        return negative ? -value : value
    }

    /// Decodes a validated integer literal; nil when it does not fit `Int64`.
    @inline(__always)
    private func integer(_ start: Int, _ end: Int) -> JSONNumber? {
        var j = start
        let negative = bytes[j] == UInt8(ascii: "-")
        if negative { j += 1 }
        if end - j <= 18 {
            // At most 18 digits cannot overflow.
            var value: Int64 = 0
            while j < end {
                value = value &* 10 &+ Int64(bytes[j] &- UInt8(ascii: "0"))
                j += 1
            }
            if negative && value == 0 { return .double(-0.0) }
            return .int(negative ? -value : value)
        }
        var magnitude: UInt64 = 0
        while j < end {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[j] &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            magnitude = sum
            j += 1
        }
        if negative {
            if magnitude == 0 { return .double(-0.0) }
            return magnitude <= UInt64(Int64.max) + 1 ? .int(Int64(bitPattern: 0 &- magnitude)) : nil
        }
        return magnitude <= UInt64(Int64.max) ? .int(Int64(magnitude)) : nil
    }

    /// Decodes a validated number literal as a correctly rounded `Double`.
    ///
    /// Up to 19 significant digits with a decimal exponent within ±22 take Clinger's fast
    /// path (both operands exact, so one rounding); anything else goes to the C library.
    private func double(_ start: Int, _ end: Int) -> Double {
        if let value = plainDouble(start, end) { return value }
        var j = start
        let negative = bytes[j] == UInt8(ascii: "-")
        if negative { j += 1 }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits in `mantissa`
        var scale = 0  // power of ten to apply to `mantissa`
        var exact = true
        while j < end, bytes[j] &- UInt8(ascii: "0") < 10 {
            accumulate(bytes[j], &mantissa, &digits, &exact, &scale, fraction: false)
            j += 1
        }
        if j < end && bytes[j] == UInt8(ascii: ".") {
            j += 1
            while j < end, bytes[j] &- UInt8(ascii: "0") < 10 {
                accumulate(bytes[j], &mantissa, &digits, &exact, &scale, fraction: true)
                j += 1
            }
        }
        if j < end {  // exponent
            j += 1
            var exponentNegative = false
            if bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-") {
                exponentNegative = bytes[j] == UInt8(ascii: "-")
                j += 1
            }
            var exponent = 0
            while j < end {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[j] &- UInt8(ascii: "0")) }
                j += 1
            }
            scale += exponentNegative ? -exponent : exponent
        }
        if exact && mantissa <= 1 << 53 && scale >= -22 && scale <= 22 {
            var value = Double(mantissa)
            value = scale < 0 ? value / JSONView.powersOfTen[-scale] : value * JSONView.powersOfTen[scale]
            return negative ? -value : value
        }
        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        if let value = Double(text) { return value }
        // Out of range for the C library: past the top is infinite, past the bottom zero.
        return scale > 0 ? (negative ? -.infinity : .infinity) : (negative ? -0.0 : 0.0)
    }

    /// The common case in one tight loop: `-`, up to 19 digits and one `.`, no exponent,
    /// a mantissa of at most 2^53 and at most 22 fraction digits — the same single
    /// rounding as Clinger's fast path below, so the same result; nil otherwise.
    @inline(__always)
    private func plainDouble(_ start: Int, _ end: Int) -> Double? {
        guard let base = bytes.baseAddress else { return nil }
        var p = base + start
        let stop = base + end
        let negative = p.pointee == UInt8(ascii: "-")
        if negative { p += 1 }
        var mantissa: UInt64 = 0
        var count = 0
        var fraction = 0
        var dot = false
        while p < stop {
            let c = p.pointee
            let d = c &- UInt8(ascii: "0")
            if d < 10 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                count &+= 1
                if dot { fraction &+= 1 }
            } else if c == UInt8(ascii: ".") && !dot {
                dot = true
            } else {
                return nil
            }
            p += 1
        }
        guard count <= 19, mantissa <= 1 << 53, fraction <= 22 else { return nil }
        let value = fraction == 0 ? Double(mantissa) : Double(mantissa) / JSONView.powersOfTen[fraction]
        return negative ? -value : value
    }

    @inline(__always)
    private func accumulate(_ c: UInt8, _ mantissa: inout UInt64, _ digits: inout Int, _ exact: inout Bool, _ scale: inout Int, fraction: Bool) {
        let d = UInt64(c &- UInt8(ascii: "0"))
        if digits == 0 && d == 0 {
            if fraction { scale -= 1 }
            return
        }
        if digits < 19 {
            mantissa = mantissa * 10 + d
            digits += 1
            if fraction { scale -= 1 }
        } else {
            exact = false
            if !fraction { scale += 1 }
        }
    }

    /// 10^0 ... 10^7, for ``shortDecimal(_:_:)``.
    private static let shortPowersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7]

    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
}
