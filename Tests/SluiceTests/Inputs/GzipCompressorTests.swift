import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension InputsTests {
    /// Both compressors behind ``GzipMember``: libdeflate (when the machine has it) and
    /// zlib. Whichever writes a member, Sluice's reader and the gzip tool read back the
    /// same bytes, and members from both concatenate into one valid file.
    @Suite struct GzipCompressorTests {
        static let text: [UInt8] = Array((1...3000).map { "{\"id\":\($0),\"status\":\"paid\",\"note\":\"\(String(repeating: "x", count: $0 % 40))\"}\n" }.joined().utf8)

        static func zlib(_ bytes: [UInt8], level: Int32) -> [UInt8] {
            var out: [UInt8] = []
            bytes.withUnsafeBytes { GzipMember.compressWithZlib($0, level: level, appendingTo: &out) }
            return out
        }

        static func libdeflate(_ bytes: [UInt8], level: Int32) -> [UInt8]? {
            guard let library = LibDeflate(path: "libdeflate.so.0") else { return nil }
            var out: [UInt8] = [0xAA]   // appends after what is there
            let ok = bytes.withUnsafeBytes { library.gzip($0, level: level, appendingTo: &out) }
            return ok ? Array(out.dropFirst()) : nil
        }

        func readBack(_ gz: [UInt8]) throws -> [UInt8] {
            let dir = try TempDir()
            let file = try dir.write("x.ndjson.gz", gz)
            let (outcome, batches) = readAll(file, ReadOptions(format: .ndjson, chunkSize: 4096))
            #expect(outcome.failure == nil)
            return Array(texts(batches).map { $0 + "\n" }.joined().utf8)
        }

        @Test(arguments: [Int32(1), 6, 9]) func zlibMembersReadBack(level: Int32) throws {
            #expect(try readBack(Self.zlib(Self.text, level: level)) == Self.text)
        }

        @Test(arguments: [Int32(1), 6, 9]) func libdeflateMembersReadBackWhenPresent(level: Int32) throws {
            guard let gz = Self.libdeflate(Self.text, level: level) else { return }   // not on this machine
            #expect(try readBack(gz) == Self.text)
            #expect(gz.count < Self.text.count / 3)
        }

        @Test func mixedMembersFormOneFileTheGzipToolReads() throws {
            let half = Self.text.count / 2
            var gz = Self.zlib(Array(Self.text[..<half]), level: 1)
            gz += Self.libdeflate(Array(Self.text[half...]), level: 1) ?? Self.zlib(Array(Self.text[half...]), level: 6)
            #expect(try readBack(gz) == Self.text)
            let dir = try TempDir()
            let file = try dir.write("m.gz", gz)
            #expect(try runTool("/usr/bin/gzip", ["-t", file.path]) == 0)
        }

        @Test func publicEntryPointUsesOneOfThem() throws {
            var out: [UInt8] = []
            Self.text.withUnsafeBytes { GzipMember.compress($0, level: 1, appendingTo: &out) }
            #expect(try readBack(out) == Self.text)
            var empty: [UInt8] = []
            [UInt8]().withUnsafeBytes { GzipMember.compress($0, level: 1, appendingTo: &empty) }
            #expect(try readBack(empty).isEmpty)
        }
    }
}
