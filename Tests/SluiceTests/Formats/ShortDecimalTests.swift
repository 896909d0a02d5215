import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `JSONView.number`'s word-at-a-time path for short decimals (`486.18`) must give what
/// the general path gives, bit for bit, on every literal — those it takes and those it
/// must pass on (exponents, long fractions, 17+ digits, subnormals, overflow, `-0`, a
/// literal whose 8-byte word would run past the buffer).
@Suite struct ShortDecimalTests {
    /// Checks every number of `literals`, written as one array, against the general path
    /// and against the C library's correctly rounded `Double(_:)`.
    private func check(_ literals: [String], atTheEnd: Bool = false) throws {
        // `atTheEnd`: each literal also alone in a record `{"n":…}`, so that only `}`
        // follows it in the buffer (its 8-byte word may not fit).
        let text = "[" + literals.joined(separator: ",") + "]"
        let batch = try indexedBatch(#"{"n":\#(text)}"#)
        try batch.withView { view in
            let root = Int(batch.records[0].tapeStart)
            let array = try #require(view.member(of: root, key: "n"))
            var k = 0
            for node in view.elements(of: array) {
                let fast = view.number(node)
                let general = view.generalNumber(node)
                #expect(fast == general || fast.map { bits($0) } == general.map { bits($0) }, "\(literals[k])")
                if let value = fast, case .double(let d) = value, let expected = Double(literals[k]) {
                    #expect(d.bitPattern == expected.bitPattern, "\(literals[k])")
                }
                k += 1
            }
            #expect(k == literals.count)
        }
        if atTheEnd {
            for literal in literals {
                let record = Array(#"{"n":\#(literal)}"#.utf8)
                var batch = Batch(file: 0, index: 0, bytes: record, records: [RecordSlot(start: 0, end: record.count, line: 1, offset: 0)])
                try batch.indexRecord(at: 0)
                batch.withView { view in
                    let node = view.member(of: Int(batch.records[0].tapeStart), key: "n")!
                    #expect(view.number(node).map { bits($0) } == view.generalNumber(node).map { bits($0) }, "\(literal) at the end")
                }
            }
        }
    }

    private func bits(_ n: JSONNumber) -> String {
        switch n {
        case .int(let v): return "int \(v)"
        case .double(let d): return "double \(d.bitPattern)"
        }
    }

    @Test func edgeCases() throws {
        try check([
            "0.0", "-0.0", "0.5", "-0.5", "1.0", "9.9", "486.18", "1667.50", "-1667.50", "12345.67", "-12345.67",
            "1234567.8", "0.000001", "0.0000001", "0.1234567", "9999999.9", "99999999.9", "0.00",
            "1.5e3", "1e5", "-1.5E-3", "1.0e0", "2.5E+2", "1e400", "-1e400", "1e-400", "4.9e-324", "2.2250738585072014e-308",
            "1.7976931348623157e308", "1.7976931348623159e308", "12345678901234567.0", "123456789012345678901234567890.5",
            "0.30000000000000004", "9007199254740993.0", "3.14159265358979323846", "-0", "0", "7", "-7",
            "12345678901234567890", "-9223372036854775808", "9223372036854775808", "1.5", "22.22", "333.333", "4444.4444",
            "55555.55555", "0.1", "0.2", "0.3", "2.675", "1.005", "4.35", "100.0", "-100.00",
        ], atTheEnd: true)
    }

    /// Random literals of every shape near the fast path's bounds, in a fixed sequence.
    @Test func randomLiteralsAgreeWithTheGeneralPath() throws {
        var rng = SplitMix64(seed: 0x5EED_D0E5)
        var literals: [String] = []
        literals.reserveCapacity(200_000)
        let digits = Array("0123456789")
        func run(_ count: Int, leadingZeroAllowed: Bool) -> String {
            var s = ""
            for k in 0..<count {
                var d = digits[Int(rng.next() % 10)]
                if k == 0 && count > 1 && !leadingZeroAllowed && d == "0" { d = "1" }
                s.append(d)
            }
            return s
        }
        for _ in 0..<200_000 {
            let sign = rng.next() % 3 == 0 ? "-" : ""
            let integerDigits = 1 + Int(rng.next() % 10)
            let fractionDigits = Int(rng.next() % 9)
            var literal = sign + run(integerDigits, leadingZeroAllowed: false)
            if fractionDigits > 0 || rng.next() % 4 == 0 {
                literal += "." + run(max(fractionDigits, 1), leadingZeroAllowed: true)
            }
            switch rng.next() % 8 {
            case 0: literal += "e" + String(Int(rng.next() % 40) - 20)
            case 1: literal += "E+" + String(rng.next() % 400)
            default: break
            }
            literals.append(literal)
        }
        try check(literals)
        try check(Array(literals.prefix(2_000)), atTheEnd: true)
    }
}
