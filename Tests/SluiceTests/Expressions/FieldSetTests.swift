import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// The one-pass lookup of a stage's field paths (`FieldSet`) must find exactly what a
/// path-by-path `member(of:key:)` lookup finds, on every record of a batch, whatever the
/// records' shapes.
@Suite struct FieldSetTests {
    static let paths = [
        "id", "ts", "customer.id", "customer.country", "total", "items", "customer",
        "a.b.c", "a.b", "a.x", "", "x" + String(repeating: "k", count: 70), "café", "e\u{301}",
    ]

    /// Records whose shapes change from one to the next: reordered, missing, duplicated,
    /// escaped and nested keys, and intermediates that are not objects.
    static let records = #"""
    {"id":1,"ts":"a","status":"paid","customer":{"id":"c1","country":"DE"},"items":[1],"total":2.5}
    {"total":3,"items":[],"customer":{"country":"FR","id":"c2"},"ts":"b","id":2}
    {"id":3}
    {}
    {"\u0069d":4,"id":5,"t\u0073":"esc","customer":{"\u0069\u0064":"c-esc","country":"US","id":"late"}}
    {"id":6,"id":7,"customer":"not an object","customer":{"id":"second"},"total":1,"total":2}
    {"customer":{"id":"first"},"customer":{"id":"second","country":"NL"},"id":8}
    {"a":{"b":{"c":1,"c":2},"b":{"c":3},"x":[1]},"a":{"b":{"c":4}}}
    {"a":{"b":[{"c":1}],"x":null},"id":9}
    {"a":{"b":"s"},"":"empty key","café":1,"e\u0301":2,"caf\u00e9":3}
    {"xkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk":"long","\u0069d":10}
    {"idx":1,"i":2,"d":3,"customerx":{"id":1},"custome":{"id":2},"totals":1,"iD":4}
    {"items":{"id":1},"ts":null,"customer":{},"total":[1,2],"id":{"id":1}}
    {"k\"":1,"id\\":2,"i\u0064\u0000":3,"id":"last"}
    """#

    @Test func resolvesEveryPathAsMemberLookupsDo() throws {
        let builder = FieldSetBuilder()
        let parsed = Self.paths.map { text in
            FieldPath(steps: text.split(separator: ".", omittingEmptySubsequences: false).map { .key(Array($0.utf8)) })
        }
        let slots = parsed.map { builder.slot(for: $0) }
        #expect(slots.allSatisfy { $0 >= 0 })
        #expect(builder.slot(for: try FieldPath(parsing: "customer.id")) == slots[2], "the same path, the same slot")
        let fields = builder.build()
        let batch = try ndjsonBatch(Self.records)
        #expect(batch.records.count == 14)
        batch.withView { view in
            var resolved = [Int](repeating: -2, count: fields.bufferCount)
            resolved.withUnsafeMutableBufferPointer { fields.prepare($0.baseAddress!) }
            for record in batch.records {
                let root = Int(record.tapeStart)
                resolved.withUnsafeMutableBufferPointer { fields.resolve(in: view, root: root, into: $0.baseAddress!) }
                for (k, path) in parsed.enumerated() {
                    let expected = path.resolve(in: view, root: root) ?? -1
                    #expect(resolved[slots[k]] == expected, "line \(record.line), path '\(Self.paths[k])'")
                }
            }
            // Spot checks of what "the same as member lookups" means here.
            func value(_ line: Int, _ path: String) -> String? {
                let root = Int(batch.records[line - 1].tapeStart)
                resolved.withUnsafeMutableBufferPointer { fields.resolve(in: view, root: root, into: $0.baseAddress!) }
                let slot = slots[Self.paths.firstIndex(of: path)!]
                return resolved[slot] < 0 ? nil : String(decoding: view.rawBytes(resolved[slot]), as: UTF8.self)
            }
            #expect(value(5, "id") == "4", "an escaped key matches, and the first of duplicates wins")
            #expect(value(5, "ts") == #""esc""#)
            #expect(value(5, "customer.id") == #""c-esc""#)
            #expect(value(6, "id") == "6")
            #expect(value(6, "customer.id") == nil, "the first 'customer' is a string")
            #expect(value(6, "total") == "1")
            #expect(value(7, "customer.id") == #""first""#)
            #expect(value(7, "customer.country") == nil, "only the first 'customer' is read")
            #expect(value(8, "a.b.c") == "1")
            #expect(value(9, "a.b.c") == nil, "a step into an array is missing")
            #expect(value(10, "café") == "1")
            #expect(value(10, "e\u{301}") == "2")
            #expect(value(10, "") == #""empty key""#)
            #expect(value(11, "x" + String(repeating: "k", count: 70)) == #""long""#)
            #expect(value(11, "id") == "10")
            #expect(value(12, "id") == nil, "keys that only share a prefix or a length do not match")
            #expect(value(13, "customer.id") == nil)
            #expect(value(14, "id") == #""last""#)
        }
    }

    @Test func pathsWithIndexOrWildcardStepsHaveNoSlot() throws {
        let builder = FieldSetBuilder()
        #expect(builder.slot(for: try FieldPath(parsing: "items[0].sku")) == -1)
        #expect(builder.slot(for: try FieldPath(parsing: "items[*].sku")) == -1)
        #expect(builder.slot(for: FieldPath(steps: [])) == -1)
        #expect(builder.build().slotCount == 0, "a path that gets no slot adds none")
    }

    @Test func anEmptySetResolvesNothing() throws {
        let fields = FieldSetBuilder().build()
        let batch = try ndjsonBatch(#"{"id":1}"#)
        batch.withView { view in
            var slot = -2
            fields.resolve(in: view, root: Int(batch.records[0].tapeStart), into: &slot)
            #expect(slot == -2)
        }
    }

    /// `select` reads its paths through the set: the same records as a path-by-path
    /// lookup would build, for records whose shapes change and keys repeat.
    @Test func selectOverChangingShapes() throws {
        let stage = try SelectStage.make(config: .init(fields: [
            .init(key: "id", expression: "id"),
            .init(key: "cid", expression: "customer.id"),
            .init(key: "country", expression: "customer.country"),
            .init(key: "n", expression: "len(items)"),
            .init(key: "cents", expression: "round(total * 100)"),
            .init(key: "first", expression: "items[0]"),
            .init(key: "all", expression: "items[*]"),
        ]))
        #expect(stage.fieldSet.slotCount == 6, "id, customer, customer.id, customer.country, items, total")
        var batch = try ndjsonBatch(#"""
            {"id":1,"customer":{"id":"a","country":"DE"},"items":[1,2],"total":1.5}
            {"total":2,"items":[3],"\u0069d":2,"id":"dup","customer":{"country":"FR"}}
            {"id":3,"customer":"x","customer":{"id":"no"},"items":{"k":1},"total":0.005}
            {"id":4,"total":1}
            {"items":[],"total":-2.5,"id":5,"customer":{"id":"e","id":"f","\u0063ountry":"GB"}}
            """#)
        stage.process(&batch, context: testContext)
        #expect(recordTexts(batch) == [
            #"{"id":1,"cid":"a","country":"DE","n":2,"cents":150,"first":1,"all":[1,2]}"#,
            #"{"id":2,"cid":null,"country":"FR","n":1,"cents":200,"first":3,"all":[3]}"#,
            #"{"id":3,"cid":null,"country":null,"n":1,"cents":1,"first":null,"all":null}"#,
            #"{"id":5,"cid":"e","country":"GB","n":0,"cents":-250,"first":null,"all":[]}"#,
        ])
        #expect(errorLines(batch) == ["4 transform: len() needs a string, array or object, got null in 'len(items)'"])
    }

    /// What the set remembers from one record to the next (each member's key as written
    /// and its match) must never change a result: runs of records of one shape, shapes
    /// that share a prefix of keys and then differ, reorderings, duplicates, escaped
    /// spellings, more than 16 members, and values that change while keys stay.
    @Test func rememberedShapesNeverChangeAResult() throws {
        let paths = ["id", "ts", "total", "customer.id", "customer.country", "a.b.c", "a.b", "items", "k17"]
        let builder = FieldSetBuilder()
        let parsed = paths.map { text in
            FieldPath(steps: text.split(separator: ".").map { .key(Array($0.utf8)) })
        }
        let slots = parsed.map { builder.slot(for: $0) }
        let fields = builder.build()
        let keyPool = ["id", "ts", "total", "customer", "items", "a", "b", "c", "country", #"\u0069d"#, #"t\u0073"#, "idx", "k17", "x"]
        var rng = SplitMix64(seed: 0xF1E1_D5E7)
        func pick() -> String { keyPool[Int(rng.next() % UInt64(keyPool.count))] }
        func value(_ key: String, depth: Int) -> String {
            if depth < 2 && (key == "customer" || key == "a" || key == "b") && rng.next() % 4 != 0 {
                let inner = (0..<Int(rng.next() % 5)).map { _ in pick() }
                return "{" + inner.map { #""\#($0)":\#(value($0, depth: depth + 1))"# }.joined(separator: ",") + "}"
            }
            return ["1", #""s""#, "null", "[1,2]", "2.5", #"{"id":0}"#][Int(rng.next() % 6)]
        }
        var shape = (0..<6).map { _ in pick() }
        var lines: [String] = []
        for _ in 0..<4_000 {
            switch rng.next() % 10 {
            case 0: shape = (0..<Int(rng.next() % 20)).map { _ in pick() }  // a new shape (up to 19 members)
            case 1 where !shape.isEmpty: shape.swapAt(Int(rng.next() % UInt64(shape.count)), Int(rng.next() % UInt64(shape.count)))
            case 2 where !shape.isEmpty: shape[Int(rng.next() % UInt64(shape.count))] = pick()  // one key differs
            case 3: shape.append(pick())
            case 4 where !shape.isEmpty: shape.removeLast()
            default: break  // the same keys again, new values
            }
            lines.append("{" + shape.map { #""\#($0)":\#(value($0, depth: 0))"# }.joined(separator: ",") + "}")
        }
        let batch = try ndjsonBatch(lines.joined(separator: "\n"))
        batch.withView { view in
            var resolved = [Int](repeating: 0, count: fields.bufferCount)
            resolved.withUnsafeMutableBufferPointer { fields.prepare($0.baseAddress!) }
            var mismatches = 0
            for record in batch.records {
                let root = Int(record.tapeStart)
                resolved.withUnsafeMutableBufferPointer { fields.resolve(in: view, root: root, into: $0.baseAddress!) }
                for (k, path) in parsed.enumerated() where resolved[slots[k]] != (path.resolve(in: view, root: root) ?? -1) {
                    mismatches += 1
                    if mismatches < 5 { Issue.record("line \(record.line), path '\(paths[k])'") }
                }
            }
            #expect(mismatches == 0)
        }
    }
}
