import Foundation

/// Text-to-value conversions of a Parquet output: what a JSON string (and every XML
/// value, which is text) may hold for a typed column. Each returns nil when the text is
/// not exactly a value of the type — the caller reports it, never writes a null.
enum ParquetValueParsing {
    static func integer(_ text: [UInt8]) -> Int64? {
        guard let s = String(bytes: text, encoding: .utf8) else { return nil }
        return Int64(s.trimmingCharacters(in: .whitespaces))
    }

    static func double(_ text: [UInt8]) -> Double? {
        guard let s = String(bytes: text, encoding: .utf8)?.trimmingCharacters(in: .whitespaces),
              !s.isEmpty, s.allSatisfy({ "0123456789+-.eE".contains($0) }), let v = Double(s), v.isFinite else { return nil }
        return v
    }

    static func bool(_ text: [UInt8]) -> Bool? {
        switch String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespaces) {
        case "true", "1": return true
        case "false", "0": return false
        default: return nil
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    private struct Cursor {
        let b: [UInt8]
        var i = 0
        mutating func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            i += n
            return v
        }
        mutating func expect(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        var atEnd: Bool { i == b.count }
    }

    /// `YYYY-MM-DD` → days since 1970-01-01.
    static func date(_ text: [UInt8]) -> Int32? {
        var c = Cursor(b: text)
        guard let d = parseDate(&c), c.atEnd else { return nil }
        return Int32(exactly: d)
    }

    private static func parseDate(_ c: inout Cursor) -> Int? {
        guard let y = c.digits(4), c.expect("-"), let m = c.digits(2), c.expect("-"), let d = c.digits(2),
              (1...12).contains(m) else { return nil }
        let lengths = [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[m - 1]).contains(d) else { return nil }
        return days(year: y, month: m, day: d)
    }

    enum TimestampFailure: Error { case syntax, precision, offset }

    /// RFC 3339 / ISO 8601 text (`2024-05-01T12:30:00.123Z`, a space for `T`, an offset
    /// `+02:00`, or a date alone) → units (ms or µs) since 1970. A UTC column converts
    /// an offset to UTC (no offset means UTC); a local column keeps the wall-clock time
    /// and refuses an offset. Digits finer than the unit must be zeros.
    static func timestamp(_ text: [UInt8], micros: Bool, utc: Bool) -> Result<Int64, TimestampFailure> {
        var c = Cursor(b: text)
        guard let days = parseDate(&c) else { return .failure(.syntax) }
        var seconds = days * 86_400
        var fraction: Int64 = 0
        let perSecond: Int64 = micros ? 1_000_000 : 1_000
        if !c.atEnd {
            guard c.expect("T") || c.expect(" ") || c.expect("t") else { return .failure(.syntax) }
            guard let h = c.digits(2), c.expect(":"), let mi = c.digits(2), h < 24, mi < 60 else { return .failure(.syntax) }
            var s = 0
            if c.expect(":") {
                guard let v = c.digits(2), v < 61 else { return .failure(.syntax) }
                s = v
            }
            seconds += h * 3600 + mi * 60 + s
            if c.expect(".") || c.expect(",") {
                var digits = 0
                var scale = perSecond / 10
                while let d = c.digits(1) {
                    digits += 1
                    if scale > 0 {
                        fraction += Int64(d) * scale
                        scale /= 10
                    } else if d != 0 {
                        return .failure(.precision)
                    }
                }
                if digits == 0 { return .failure(.syntax) }
            }
            if !c.atEnd {
                if c.expect("Z") || c.expect("z") {
                    if !utc { return .failure(.offset) }
                } else {
                    let sign: Int
                    if c.expect("+") { sign = 1 } else if c.expect("-") { sign = -1 } else { return .failure(.syntax) }
                    guard let oh = c.digits(2) else { return .failure(.syntax) }
                    _ = c.expect(":")
                    guard let om = c.digits(2), oh < 24, om < 60 else { return .failure(.syntax) }
                    if !utc { return .failure(.offset) }
                    seconds -= sign * (oh * 3600 + om * 60)
                }
            }
            guard c.atEnd else { return .failure(.syntax) }
        }
        let (scaled, overflow) = Int64(seconds).multipliedReportingOverflow(by: perSecond)
        guard !overflow else { return .failure(.syntax) }
        return .success(scaled + fraction)
    }

    enum DecimalFailure: Error { case syntax, scale, precision }

    /// A decimal number's text (`-12.50`, `1.2e3`) → its unscaled value at `scale`; too
    /// many significant decimal places or digits is a failure, never a rounding.
    static func decimal(_ text: [UInt8], precision: Int, scale: Int) -> Result<Int128, DecimalFailure> {
        var i = 0
        let b = text
        while i < b.count, b[i] == 0x20 { i += 1 }
        var end = b.count
        while end > i, b[end - 1] == 0x20 { end -= 1 }
        var negative = false
        if i < end, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
            negative = b[i] == UInt8(ascii: "-")
            i += 1
        }
        var digits: [UInt8] = []
        var fractionDigits = 0
        var seenPoint = false
        var any = false
        while i < end {
            let c = b[i]
            if c >= 0x30 && c <= 0x39 {
                digits.append(c - 0x30)
                if seenPoint { fractionDigits += 1 }
                any = true
            } else if c == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
            } else {
                break
            }
            i += 1
        }
        guard any else { return .failure(.syntax) }
        var exponent = 0
        if i < end, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < end, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
                expNegative = b[i] == UInt8(ascii: "-")
                i += 1
            }
            var e = 0, expDigits = 0
            while i < end, b[i] >= 0x30 && b[i] <= 0x39, e < 100_000 {
                e = e * 10 + Int(b[i] - 0x30)
                i += 1
                expDigits += 1
            }
            guard expDigits > 0 else { return .failure(.syntax) }
            exponent = expNegative ? -e : e
        }
        guard i == end else { return .failure(.syntax) }
        // value = digits × 10^(exponent − fractionDigits); unscaled = value × 10^scale.
        let shift = exponent - fractionDigits + scale
        if shift < 0 {
            let dropped = min(-shift, digits.count)
            if digits.suffix(dropped).contains(where: { $0 != 0 }) { return .failure(.scale) }
            digits.removeLast(dropped)
        } else {
            if digits.contains(where: { $0 != 0 }) {
                guard shift <= 40 else { return .failure(.precision) }
                digits.append(contentsOf: repeatElement(0, count: shift))
            }
        }
        while digits.first == 0 { digits.removeFirst() }
        guard digits.count <= precision else { return .failure(.precision) }
        var value: Int128 = 0
        for d in digits { value = value * 10 + Int128(d) }
        return .success(negative ? -value : value)
    }
}
