import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// JSONTestSuite (`../shared/conformance/json-test-suite/test_parsing` from the package
/// root): every `y_` file accepted, every `n_` file rejected, no `i_` file crashes.
@Suite(.enabled(if: TestSupport.runsConformance(TestSupport.conformance.appendingPathComponent("json-test-suite")), TestSupport.conformanceNote))
struct JSONConformanceTests {
    static let directory: URL = TestSupport.conformance.appendingPathComponent("json-test-suite/test_parsing")

    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".json") }
        .sorted()

    static func contents(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    @Test func suiteIsPresent() {
        #expect(Self.files.count > 300, "JSONTestSuite not found at \(Self.directory.path)")
    }

    @Test(arguments: files.filter { $0.hasPrefix("y_") })
    func accepts(_ name: String) throws {
        let bytes = try Self.contents(name)
        let error = syntaxError(bytes)
        #expect(error == nil, "\(name): \(error?.description ?? "")")
    }

    @Test(arguments: files.filter { $0.hasPrefix("n_") })
    func rejects(_ name: String) throws {
        let bytes = try Self.contents(name)
        let error = syntaxError(bytes)
        #expect(error != nil, "\(name) was accepted")
        if let error {
            #expect(!error.message.isEmpty && error.offset >= 0 && error.offset <= bytes.count, "\(name): \(error)")
        }
    }

    /// Implementation-defined cases: either answer is fine, but accepted text must round-trip
    /// and decode without trapping.
    @Test(arguments: files.filter { $0.hasPrefix("i_") })
    func decidesWithoutCrashing(_ name: String) throws {
        let bytes = try Self.contents(name)
        var batch = Batch(file: 0, index: 0, bytes: bytes, records: [RecordSlot(start: 0, end: bytes.count, line: 1, offset: 0)])
        guard (try? batch.indexRecord(at: 0)) != nil else { return }
        batch.withView { view in
            let root = Int(batch.records[0].tapeStart)
            #expect(Array(view.rawBytes(root)) == trimmed(bytes), "\(name)")
            _ = view.materialize(root)
        }
    }

    /// The documented decisions among the `i_` files.
    @Test func documentedDecisions() throws {
        // Unpaired escaped surrogates are accepted (decoded as U+FFFD).
        #expect(syntaxError(try Self.contents("i_string_1st_surrogate_but_2nd_missing.json")) == nil)
        #expect(syntaxError(try Self.contents("i_object_key_lone_2nd_surrogate.json")) == nil)
        // Invalid UTF-8, a byte order mark and UTF-16 are rejected.
        #expect(syntaxError(try Self.contents("i_string_invalid_utf-8.json")) != nil)
        #expect(syntaxError(try Self.contents("i_string_UTF8_surrogate_U+D800.json")) != nil)
        #expect(syntaxError(try Self.contents("i_structure_UTF-8_BOM_empty_object.json")) != nil)
        #expect(syntaxError(try Self.contents("i_string_utf16LE_no_BOM.json")) != nil)
        // 500 nested arrays exceed the default depth of 256.
        #expect(syntaxError(try Self.contents("i_structure_500_nested_arrays.json")) != nil)
        #expect(syntaxError(try Self.contents("i_structure_500_nested_arrays.json"), maxDepth: 500) == nil)
        // Huge numbers are valid grammar.
        #expect(syntaxError(try Self.contents("i_number_huge_exp.json")) == nil)
    }
}

/// `bytes` without leading and trailing JSON whitespace.
func trimmed(_ bytes: [UInt8]) -> [UInt8] {
    let ws: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
    var slice = bytes[...]
    while let first = slice.first, ws.contains(first) { slice = slice.dropFirst() }
    while let last = slice.last, ws.contains(last) { slice = slice.dropLast() }
    return Array(slice)
}
