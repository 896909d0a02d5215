import Foundation

/// A time format and zone prepared at config load for `parse_time` / `format_time`.
final class TimePayload: @unchecked Sendable {
    /// nil: ISO-8601.
    let format: [TimeFormat.Piece]?
    let zone: TimeZone

    init(format: [TimeFormat.Piece]?, zone: TimeZone) {
        self.format = format
        self.zone = zone
    }

    /// Seconds east of UTC in this zone at the instant `t` (seconds since 1970).
    func offset(at t: Double) -> Int { zone.secondsFromGMT(for: Date(timeIntervalSince1970: t)) }

    /// The offset for a wall-clock time read in this zone (local seconds since 1970).
    func offset(forLocal local: Double) -> Int {
        let guess = offset(at: local)
        return offset(at: local - Double(guess))
    }
}

/// strftime-style time patterns: `%Y-%m-%d %H:%M:%S`, written and read without Foundation's
/// formatters (which are slow, locale-dependent and use a different pattern language).
enum TimeFormat {
    enum Piece: Equatable {
        case literal(UInt8)
        /// A directive letter: Y m d H M S f L z Z s j b a, and T F expanded at parse.
        case field(UInt8)
    }

    static let directives = Array("YmdHMSfLzZsjba%".utf8)
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]   // 1970-01-01 was a Thursday

    static func compile(_ pattern: String) throws(ExpressionError) -> [Piece] {
        var pieces: [Piece] = []
        var bytes = Array(pattern.utf8)[...]
        while let c = bytes.popFirst() {
            guard c == UInt8(ascii: "%") else { pieces.append(.literal(c)); continue }
            guard let d = bytes.popFirst() else { throw ExpressionError("format ends with a lone '%'", column: 0) }
            switch d {
            case UInt8(ascii: "T"): pieces += try compile("%H:%M:%S")
            case UInt8(ascii: "F"): pieces += try compile("%Y-%m-%d")
            case UInt8(ascii: "%"): pieces.append(.literal(d))
            default:
                guard directives.contains(d) else {
                    throw ExpressionError("unknown directive '%\(Character(Unicode.Scalar(d)))' in time format (supported: %Y %m %d %H %M %S %f %L %z %Z %s %j %b %a %T %F %%)", column: 0)
                }
                pieces.append(.field(d))
            }
        }
        return pieces
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01.
    static func civil(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Writes the instant `t` (seconds since 1970) in the payload's zone.
    static func format(_ t: Double, _ payload: TimePayload) -> [UInt8] {
        // ISO-8601 shows milliseconds: round to them first, so that .9996 carries into
        // the next second instead of rounding to 1000 ms and being dropped.
        let t = payload.format == nil ? (t * 1000).rounded() / 1000 : t
        let offset = payload.offset(at: t)
        let local = t + Double(offset)
        let whole = local.rounded(.down)
        let fraction = local - whole
        let seconds = Int(whole)
        let dayCount = Int((Double(seconds) / 86_400).rounded(.down))
        let secondOfDay = seconds - dayCount * 86_400
        let (y, m, d) = civil(days: dayCount)
        var out: [UInt8] = []
        func pad(_ v: Int, _ width: Int) {
            var digits = Array(String(Swift.abs(v)).utf8)
            while digits.count < width { digits.insert(UInt8(ascii: "0"), at: 0) }
            if v < 0 { out.append(UInt8(ascii: "-")) }
            out += digits
        }
        func zone(colon: Bool) {
            if offset == 0 && colon { out.append(UInt8(ascii: "Z")); return }
            out.append(offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            pad(Swift.abs(offset) / 3600, 2)
            if colon { out.append(UInt8(ascii: ":")) }
            pad(Swift.abs(offset) % 3600 / 60, 2)
        }
        guard let pieces = payload.format else {
            pad(y, 4); out.append(UInt8(ascii: "-")); pad(m, 2); out.append(UInt8(ascii: "-")); pad(d, 2)
            out.append(UInt8(ascii: "T"))
            pad(secondOfDay / 3600, 2); out.append(UInt8(ascii: ":")); pad(secondOfDay % 3600 / 60, 2)
            out.append(UInt8(ascii: ":")); pad(secondOfDay % 60, 2)
            let millis = Int((fraction * 1000).rounded())
            if millis > 0 && millis < 1000 { out.append(UInt8(ascii: ".")); pad(millis, 3) }
            zone(colon: true)
            return out
        }
        for piece in pieces {
            switch piece {
            case .literal(let c): out.append(c)
            case .field(let f):
                switch UnicodeScalar(f) {
                case "Y": pad(y, 4)
                case "m": pad(m, 2)
                case "d": pad(d, 2)
                case "H": pad(secondOfDay / 3600, 2)
                case "M": pad(secondOfDay % 3600 / 60, 2)
                case "S": pad(secondOfDay % 60, 2)
                case "f": pad(min(999_999, Int((fraction * 1_000_000).rounded())), 6)
                case "L": pad(min(999, Int((fraction * 1000).rounded())), 3)
                case "z": zone(colon: false)
                case "Z": out += Array((payload.zone.abbreviation(for: Date(timeIntervalSince1970: t)) ?? payload.zone.identifier).utf8)
                case "s": out += Array(String(Int(t.rounded(.down))).utf8)
                case "j": pad(dayCount - days(year: y, month: 1, day: 1) + 1, 3)
                case "b": out += Array(months[m - 1].utf8)
                default: out += Array(weekdays[((dayCount % 7) + 7) % 7].utf8)   // "a"
                }
            }
        }
        return out
    }

    /// Reads a time; nil when `text` does not match. Returns seconds since 1970 (UTC).
    static func parse(_ text: [UInt8], _ payload: TimePayload) -> Double? {
        var reader = Reader(bytes: text[...])
        var year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var offset: Int?
        var epoch: Double?
        var dayOfYear: Int?
        if let pieces = payload.format {
            for piece in pieces {
                switch piece {
                case .literal(let c):
                    guard reader.take(c) else { return nil }
                case .field(let f):
                    switch UnicodeScalar(f) {
                    case "Y": guard let v = reader.int(digits: 4...4, signed: true) else { return nil }; year = v
                    case "m": guard let v = reader.int(digits: 1...2) else { return nil }; month = v
                    case "d": guard let v = reader.int(digits: 1...2) else { return nil }; day = v
                    case "H": guard let v = reader.int(digits: 1...2) else { return nil }; hour = v
                    case "M": guard let v = reader.int(digits: 1...2) else { return nil }; minute = v
                    case "S": guard let v = reader.int(digits: 1...2) else { return nil }; second = v
                    case "f", "L": guard let v = reader.fraction() else { return nil }; fraction = v
                    case "z": guard let v = reader.offset() else { return nil }; offset = v
                    case "Z":
                        let word = reader.word()
                        guard ["UTC", "GMT", "Z"].contains(word) else { return nil }
                        offset = 0
                    case "s": guard let v = reader.int(digits: 1...19, signed: true) else { return nil }; epoch = Double(v)
                    case "j": guard let v = reader.int(digits: 1...3) else { return nil }; dayOfYear = v
                    case "b":
                        guard let k = months.firstIndex(where: { $0.lowercased() == reader.word().lowercased() }) else { return nil }
                        month = k + 1
                    default:
                        guard weekdays.contains(where: { $0.lowercased() == reader.word().lowercased() }) else { return nil }
                    }
                }
            }
        } else {
            guard let y = reader.int(digits: 4...4), reader.take(UInt8(ascii: "-")),
                  let mo = reader.int(digits: 2...2), reader.take(UInt8(ascii: "-")),
                  let d = reader.int(digits: 2...2) else { return nil }
            (year, month, day) = (y, mo, d)
            if reader.take(UInt8(ascii: "T")) || reader.take(UInt8(ascii: " ")) {
                guard let h = reader.int(digits: 2...2), reader.take(UInt8(ascii: ":")), let mi = reader.int(digits: 2...2) else { return nil }
                (hour, minute) = (h, mi)
                if reader.take(UInt8(ascii: ":")) {
                    guard let s = reader.int(digits: 2...2) else { return nil }
                    second = s
                    if reader.take(UInt8(ascii: ".")) || reader.take(UInt8(ascii: ",")) {
                        guard let f = reader.fraction() else { return nil }
                        fraction = f
                    }
                }
                if !reader.isAtEnd {
                    guard let o = reader.offset() else { return nil }
                    offset = o
                }
            }
        }
        guard reader.isAtEnd else { return nil }
        if let epoch { return epoch + fraction }
        var dayCount: Int
        if let dayOfYear {
            guard (1...366).contains(dayOfYear) else { return nil }
            dayCount = days(year: year, month: 1, day: 1) + dayOfYear - 1
            // Day 366 of a common year is not January 1st of the next.
            guard civil(days: dayCount).year == year else { return nil }
        } else {
            guard (1...12).contains(month), (1...31).contains(day) else { return nil }
            dayCount = days(year: year, month: month, day: day)
            // Reject 2026-02-30 rather than roll it into March.
            guard civil(days: dayCount) == (year, month, day) else { return nil }
        }
        guard hour < 24 || (hour == 24 && minute == 0 && second == 0), minute < 60, second <= 60 else { return nil }
        let local = Double(dayCount * 86_400 + hour * 3600 + minute * 60 + second) + fraction
        return local - Double(offset ?? payload.offset(forLocal: local))
    }

    private struct Reader {
        var bytes: ArraySlice<UInt8>
        var isAtEnd: Bool { bytes.isEmpty }

        mutating func take(_ c: UInt8) -> Bool {
            guard bytes.first == c else { return false }
            bytes.removeFirst()
            return true
        }

        mutating func int(digits: ClosedRange<Int>, signed: Bool = false) -> Int? {
            var negative = false
            if signed, let c = bytes.first, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                negative = c == UInt8(ascii: "-")
                bytes.removeFirst()
            }
            var value = 0, count = 0, overflow = false
            while count < digits.upperBound, let c = bytes.first, c >= 48, c <= 57 {
                // `%s` takes up to 19 digits, which need not fit an Int: no match, not a trap.
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(c - 48))
                overflow = overflow || o1 || o2
                value = sum
                count += 1
                bytes.removeFirst()
            }
            guard digits.contains(count), !overflow else { return nil }
            return negative ? -value : value
        }

        mutating func fraction() -> Double? {
            var value = 0.0, scale = 0.1, count = 0
            while let c = bytes.first, c >= 48, c <= 57 {
                value += Double(c - 48) * scale
                scale /= 10
                count += 1
                bytes.removeFirst()
            }
            return count > 0 ? value : nil
        }

        mutating func offset() -> Int? {
            if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) { return 0 }
            guard let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
            bytes.removeFirst()
            guard let h = int(digits: 2...2) else { return nil }
            _ = take(UInt8(ascii: ":"))
            let m = int(digits: 2...2) ?? 0
            guard h < 24, m < 60 else { return nil }
            return (sign == UInt8(ascii: "-") ? -1 : 1) * (h * 3600 + m * 60)
        }

        mutating func word() -> String {
            var out: [UInt8] = []
            while let c = bytes.first, (c | 0x20) >= 97, (c | 0x20) <= 122 {
                out.append(c)
                bytes.removeFirst()
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// A zone from its config text: `UTC`, `+02:00` / `-0530`, or an IANA name (`Europe/Paris`).
    static func zone(_ name: String) -> TimeZone? {
        if name == "UTC" || name == "Z" { return TimeZone(secondsFromGMT: 0) }
        var reader = Reader(bytes: Array(name.utf8)[...])
        if let offset = reader.offset(), reader.isAtEnd { return TimeZone(secondsFromGMT: offset) }
        return TimeZone(identifier: name)
    }
}

extension ExpressionFunction {
    static let times: [ExpressionFunction] = [
        ExpressionFunction(
            name: "parse_time", arity: 1...3, signature: "parse_time(s, format, zone)",
            summary: """
                The instant a time string names, in seconds since 1970-01-01T00:00:00Z (an int \
                when whole, else a double). Without `format`, ISO-8601: `2026-11-02`, \
                `2026-11-02T10:30:00Z`, `2026-11-02 10:30:00.250+01:00`. `format` is \
                strftime-style: `%Y %m %d %H %M %S`, `%f`/`%L` (fraction), `%z` (`+0100`, \
                `+01:00`, `Z`), `%Z` (`UTC`), `%s` (epoch seconds), `%j`, `%b`, `%a`, `%T`, \
                `%F`, `%%`. A time without an offset is read in `zone` (`UTC` by default; \
                `+02:00` or an IANA name such as `Europe/Paris`). `format` and `zone` must be \
                string literals (checked when the config loads). A string that does not \
                match is a record error (kind `transform`).
                """,
            resultType: .unknown, rejectedArgumentTypes: [.null, .bool, .number, .array],
            prepare: prepareTime,
            evaluate: { (call, context) throws(EvaluationError) in
                let payload = unsafeDowncast(call.payload!, to: TimePayload.self)
                let text = try call.string(0, context)
                guard let t = TimeFormat.parse(text, payload) else {
                    throw call.failure("cannot read \"\(String(decoding: text.prefix(64), as: UTF8.self))\" as a time")
                }
                if let i = int64(exactly: t), Double(i) == t { return .int(i) }
                return .double(t)
            }),
        ExpressionFunction(
            name: "format_time", arity: 1...3, signature: "format_time(t, format, zone)",
            summary: """
                Writes the instant `t` (seconds since 1970, as `parse_time` and `now()` give) \
                as a string in `zone` (default `UTC`): ISO-8601 without `format` \
                (`2026-11-02T10:30:00Z`, with `.250` milliseconds when not whole, and the \
                offset as `+01:00` outside UTC), else the strftime-style `format`. `format` and \
                `zone` must be string literals. A `t` that is not a number is an error.
                """,
            resultType: .string, rejectedArgumentTypes: [.null, .bool, .array],
            prepare: prepareTime,
            evaluate: { (call, context) throws(EvaluationError) in
                let payload = unsafeDowncast(call.payload!, to: TimePayload.self)
                let t = try call.number(0, context).doubleValue
                guard Swift.abs(t) < 253_402_300_800 else { throw call.failure("time \(t) is out of range (years 0001 to 9999)") }
                return .string(TimeFormat.format(t, payload))
            }),
        ExpressionFunction(
            name: "now", arity: 0...0, signature: "now()",
            summary: """
                The run's start time in seconds since 1970 (a double): the same for every \
                record of a run, so that output depends only on the input and the start time.
                """,
            resultType: .number, rejectedArgumentTypes: [], isFoldable: false,
            evaluate: { (_, context) throws(EvaluationError) in .double(context.now) }),
    ]

    private static let prepareTime: @Sendable ([Node]) throws(ExpressionError) -> AnyObject? = { (arguments) throws(ExpressionError) in
        var format: [TimeFormat.Piece]?
        var zone = TimeZone(secondsFromGMT: 0)!
        if arguments.count > 1 {
            let pattern = try constantString(arguments[1], what: "the format")
            do throws(ExpressionError) {
                format = try TimeFormat.compile(pattern)
            } catch {
                throw argumentError(error.message, arguments[1])
            }
        }
        if arguments.count > 2 {
            let name = try constantString(arguments[2], what: "the zone")
            guard let z = TimeFormat.zone(name) else {
                throw argumentError("unknown time zone '\(name)' (use UTC, an offset such as +02:00, or an IANA name such as Europe/Paris)", arguments[2])
            }
            zone = z
        }
        return TimePayload(format: format, zone: zone)
    }
}
