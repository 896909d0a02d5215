import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct JSONViewTests {
    static let order = #"""
    {"id":123,"status":"paid","customer":{"id":"c-42","country":"DE"},
     "items":[{"sku":"A-1","qty":2},{"sku":"B-2","qty":1},{"sku":"C-3","qty":5}],
     "total":52.3,"ok":true,"none":null}
    """#

    @Test func memberLookupAndNestedPaths() throws {
        try withRoot(Self.order) { view, root in
            #expect(view.kind(root) == .object && view.count(root) == 7)
            #expect(view.member(of: root, key: "status").flatMap(view.string) == "paid")
            #expect(view.member(of: root, path: ["customer", "country"]).flatMap(view.string) == "DE")
            #expect(view.member(of: root, path: ["customer", "missing"]) == nil)
            #expect(view.member(of: root, key: Array("id".utf8)).flatMap(view.number) == .int(123))
            #expect(view.member(of: root, key: "total").flatMap(view.number) == .double(52.3))
            #expect(view.member(of: root, key: "ok").flatMap(view.bool) == true)
            #expect(view.member(of: root, key: "none").map(view.isNull) == true)
            #expect(view.member(of: root, key: "nope") == nil)
            let items = try #require(view.member(of: root, key: "items"))
            #expect(view.count(items) == 3)
            // member(of:) on a non-object is nil, not a crash
            #expect(view.member(of: items, key: "sku") == nil)
            #expect(view.string(items) == nil && view.number(items) == nil && view.bool(items) == nil)
        }
    }

    @Test func elementsWithNegativeIndices() throws {
        try withRoot(Self.order) { view, root in
            let items = try #require(view.member(of: root, key: "items"))
            let sku = { (i: Int?) in i.flatMap { view.member(of: $0, key: "sku") }.flatMap(view.string) }
            #expect(sku(view.element(of: items, at: 0)) == "A-1")
            #expect(sku(view.element(of: items, at: 2)) == "C-3")
            #expect(sku(view.element(of: items, at: -1)) == "C-3")
            #expect(sku(view.element(of: items, at: -3)) == "A-1")
            #expect(view.element(of: items, at: 3) == nil)
            #expect(view.element(of: items, at: -4) == nil)
            #expect(view.element(of: root, at: 0) == nil)
            #expect(view.elements(of: items).map { sku($0)! } == ["A-1", "B-2", "C-3"])
            #expect(view.members(of: root).map { view.string($0.key)! } == ["id", "status", "customer", "items", "total", "ok", "none"])
            #expect(Array(view.elements(of: root)).isEmpty && Array(view.members(of: items)).isEmpty)
        }
    }

    @Test func escapesInKeysAndValues() throws {
        let text = #"{"caf\u00e9":1,"e\u0301":2,"a\"b":"x\ty\\z\/","\ud83d\ude00":"\ud800!","tab\t":"\u0000"}"#
        try withRoot(text) { view, root in
            #expect(view.member(of: root, key: "café").flatMap(view.number) == .int(1))
            #expect(view.member(of: root, key: "e\u{301}").flatMap(view.number) == .int(2))
            #expect(view.member(of: root, key: "caf") == nil)
            #expect(view.member(of: root, key: "cafée") == nil)
            #expect(view.member(of: root, key: "a\"b").flatMap(view.string) == "x\ty\\z/")
            let emoji = try #require(view.member(of: root, key: "😀"))
            // A lone surrogate decodes to U+FFFD.
            #expect(view.string(emoji) == "\u{FFFD}!")
            #expect(view.stringEquals(emoji, "\u{FFFD}!"))
            #expect(view.member(of: root, key: "tab\t").flatMap(view.string) == "\u{0}")
        }
        // Unescaped "é" and combining "e\u0301" are different keys.
        try withRoot("{\"\u{E9}\":1,\"e\u{301}\":2}") { view, root in
            #expect(view.member(of: root, key: "é").flatMap(view.number) == .int(1))
            #expect(view.member(of: root, key: "e\u{301}").flatMap(view.number) == .int(2))
            #expect(view.member(of: root, key: "\u{E9}").flatMap(view.number) == .int(1))
        }
    }

    @Test func duplicateKeysFirstWins() throws {
        try withRoot(#"{"a":1,"b":2,"a":3}"#) { view, root in
            #expect(view.member(of: root, key: "a").flatMap(view.number) == .int(1))
            #expect(view.materialize(root) == .object([JSONMember("a", .int(1)), JSONMember("b", .int(2)), JSONMember("a", .int(3))]))
            #expect(view.materialize(root)["a"] == .int(1))
        }
    }

    @Test(arguments: [
        ("0", JSONNumber.int(0)),
        ("-0", .double(-0.0)),
        ("-0.0", .double(-0.0)),
        ("1E2", .double(100)),
        ("1e-2", .double(0.01)),
        ("0.1", .double(0.1)),
        ("-12.5e+1", .double(-125)),
        ("9223372036854775807", .int(Int64.max)),
        ("-9223372036854775808", .int(Int64.min)),
        ("9223372036854775808", .double(9223372036854775808)),
        ("-9223372036854775809", .double(-0x1p63)),
        ("123456789012345678901234567890", .double(1.2345678901234568e29)),
        ("1e400", .double(.infinity)),
        ("-1e400", .double(-.infinity)),
        ("1e-400", .double(0)),
        ("2.2250738585072014e-308", .double(2.2250738585072014e-308)),
        ("4.9406564584124654e-324", .double(.leastNonzeroMagnitude)),
        ("1.7976931348623157e308", .double(.greatestFiniteMagnitude)),
        ("3.141592653589793238462643383279", .double(3.141592653589793)),
        ("0.30000000000000004", .double(0.30000000000000004)),
        ("123456789012345678", .int(123456789012345678)),
        ("0e99999999999999999999", .double(0)),
    ])
    func numberDecoding(_ text: String, _ expected: JSONNumber) throws {
        try withRoot(text) { view, root in
            let number = view.number(root)
            #expect(number == expected)
            if case .double(let d)? = number, case .double(let e) = expected {
                #expect(d.sign == e.sign, "sign of \(text)")
            }
        }
    }

    @Test func materialize() throws {
        try withRoot(#"{"a":[1,2.5,"s",true,null,{}],"b":{"c":-0}}"#) { view, root in
            #expect(view.materialize(root) == .object([
                JSONMember("a", .array([.int(1), .double(2.5), .string("s"), .bool(true), .null, .object([])])),
                JSONMember("b", .object([JSONMember("c", .double(-0.0))])),
            ]))
        }
    }
}
