import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension CodecsTests {
    /// Files that are not what their name says fail once, naming what they are.
    @Suite struct SniffTests {
        static func failure(_ name: String, _ bytes: [UInt8], _ options: ReadOptions = ReadOptions()) throws -> RecordError? {
            let dir = try TempDir()
            let (outcome, batches) = readAll(try dir.write(name, bytes), options)
            if outcome.failure != nil { #expect(batches.allSatisfy { $0.errors.isEmpty }, "garbage lines before the failure") }
            return outcome.failure
        }

        static let html = Array("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>nope</body></html>\n".utf8)

        @Test func containersAreNamed() throws {
            let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 20, 0, 0, 0, 8, 0] + [UInt8](repeating: 0x41, count: 100)
            #expect(try Self.failure("a.json.gz", zip)?.message.hasPrefix("a zip archive, not JSON or XML text") == true)
            #expect(try Self.failure("a.json", [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0, 4])?.message.hasPrefix("a 7-Zip archive") == true)
            #expect(try Self.failure("a.json", [0x04, 0x22, 0x4D, 0x18, 0x64, 0x40])?.message.hasPrefix("lz4-compressed data") == true)
            #expect(try Self.failure("a.json", [0x04, 0x22, 0x4D, 0x18, 0x64, 0x40])?.kind == .io)
        }

        @Test func htmlSavedAsJSONFails() throws {
            let gz = gzipMember(String(decoding: Self.html, as: UTF8.self))
            let failure = try #require(try Self.failure("orders.json.gz", gz))
            #expect(failure.message == "the gzip-decoded data is an HTML page, not JSON or XML data (it starts with <!DOCTYPE html): was an error page saved under this name?")
            #expect(try Self.failure("orders.ndjson", Self.html)?.message.contains("HTML page") == true)
            // Read as XML (by name or by format), XHTML stays the user's business.
            #expect(try Self.failure("page.xml", Self.html) == nil)
            #expect(try Self.failure("page.html", Self.html, ReadOptions(format: .xml)) == nil)
        }

        @Test func utf16And32AreNamed() throws {
            let text = "{\"a\":1}\n{\"b\":2}\n"
            let le = Array(text.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            let be = Array(text.utf16).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
            let le32 = Array(text.unicodeScalars).flatMap { [UInt8($0.value & 0xFF), 0, 0, 0] }
            let cases: [([UInt8], String)] = [
                ([0xFF, 0xFE] + le, "UTF-16LE text (byte order mark FF FE)"),
                ([0xFE, 0xFF] + be, "UTF-16BE text (byte order mark FE FF)"),
                (le, "UTF-16LE text (no byte order mark)"),
                (be, "UTF-16BE text (no byte order mark)"),
                ([0xFF, 0xFE, 0, 0] + le32, "UTF-32LE text (byte order mark FF FE 00 00)"),
                (le32, "UTF-32LE text (no byte order mark)"),
            ]
            for (bytes, expected) in cases {
                let failure = try #require(try Self.failure("u.ndjson", bytes), "\(expected)")
                #expect(failure.message.hasPrefix("the file is " + expected), "\(failure.message)")
                #expect(failure.message.contains("iconv"))
                #expect(try Self.failure("u.ndjson.gz", TestSupport.gzip(bytes))?.message.hasPrefix("the gzip-decoded data is " + expected) == true)
            }
        }

        @Test func binaryGarbageFailsOnce() throws {
            var rng = SystemRandomNumberGenerator()
            let garbage = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let failure = try #require(try Self.failure("g.ndjson", garbage))
            #expect(failure.message.hasPrefix("the file is binary data, not text"))
            #expect(failure.offset == 0)
        }

        @Test(arguments: [1, 3, 64, 5000])
        func theVerdictDoesNotDependOnTheChunkSize(chunkSize: Int) throws {
            let gz = gzipMember(String(decoding: Self.html, as: UTF8.self))
            #expect(try Self.failure("x.json.gz", gz, ReadOptions(chunkSize: chunkSize))?.message.contains("HTML") == true)
            let text = sampleNDJSON(100)
            let dir = try TempDir()
            let (outcome, records) = readTexts(try dir.write("ok.ndjson", text), ReadOptions(chunkSize: chunkSize))
            #expect(outcome.failure == nil && records.count == 100)
        }

        @Test func suffixesGoThroughTheTable() {
            #expect(Codecs.strippingSuffix("a/b.ndjson.zst") == "a/b.ndjson")
            #expect(Codecs.strippingSuffix("x.XML.BZ2") == "x.XML")
            #expect(Codecs.strippingSuffix("x.json.xz") == "x.json")
            #expect(Codecs.strippingSuffix("x.json") == "x.json")
            #expect(Codecs.strippingSuffix(".gz") == ".gz")
            #expect(FormatSniffer.framing(forName: "d/osm.osm.bz2", format: .auto) == .xml)
            #expect(FormatSniffer.framing(forName: "r.jsonl.zst", format: .auto) == .ndjson)
            #expect(StarterConfig.isDataFile("dump.xml.bz2") && StarterConfig.isDataFile("RS_2023.ndjson.zst"))
            #expect(OutputSet.mirrorName("sub/day.ndjson.xz") == "sub/day")
        }
    }
}
