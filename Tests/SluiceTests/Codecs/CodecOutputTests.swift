import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension CodecsTests {
    /// `output.compression`: gzip and zstd files every reader accepts, also when empty,
    /// and the same bytes whatever the worker count.
    @Suite struct CodecOutputTests {
        static func config(_ output: String, workers: Int = 2, filter: String = "true") throws -> PipelineConfig {
            try PipelineConfig.parse(yaml: """
                name: orders
                input: { path: unused, readers: 2 }
                batch_size: 64
                defaults: { workers: \(workers) }
                stages:
                  - { name: keep, filter: '\(filter)' }
                output: \(output)
                """)
        }

        /// Runs `config` over generated NDJSON; returns the output file's path and bytes.
        static func run(_ config: PipelineConfig, records: Int = 3000) throws -> (path: String, bytes: [UInt8]) {
            let input = TestSupport.temporaryDirectory("codec-in"), out = TestSupport.temporaryDirectory("codec-out")
            defer { TestSupport.cleanup(input); TestSupport.cleanup(out) }
            for f in 0..<3 {
                try Data(sampleNDJSON(records / 3, from: f * records / 3 + 1)).write(to: input.appendingPathComponent("p\(f).ndjson"))
            }
            let summary = TestSupport.run(config, input: input, output: out)
            #expect(summary.exitCode == 0)
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: out.path).first { $0.hasPrefix("orders-") && !$0.hasSuffix(".summary.json") })
            let path = out.appendingPathComponent(name).path
            return (name, TestSupport.read(URL(fileURLWithPath: path)))
        }

        static func tool(_ command: String, _ bytes: [UInt8]) throws -> (status: Int32, text: [UInt8]) {
            let dir = try TempDir()
            try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/in"))
            let status = try CodecTools.shell("\(command) < in > out", in: dir.path)
            return (status, TestSupport.read(URL(fileURLWithPath: dir.path + "/out")))
        }

        @Test func configAcceptsCodecsAndTheirLevels() throws {
            let zstd = try Self.config("{ path: o, compression: zstd }").output
            #expect(zstd.compression.rawValue == "zstd")
            #expect(zstd.level == 3)
            #expect(zstd.spec.fileExtension == "ndjson.zst")
            #expect(try Self.config("{ path: o, compression: zstd, level: 19 }").output.level == 19)
            #expect(try Self.config("{ path: o, compression: gzip }").output.level == 6)
            #expect(try Self.config("{ path: o, compression: gzip }").output.spec.fileExtension == "ndjson.gz")
            #expect(OutputConfig.Compression.names == ["none", "gzip", "zstd"])
            do {
                _ = try Self.config("{ path: o, compression: gzip, level: 12 }")
                Issue.record("level 12 accepted for gzip")
            } catch {
                #expect("\(error)".contains("level 12 is out of range for compression gzip (1...9)"), "\(error)")
            }
            do {
                _ = try Self.config("{ path: o, compression: bzip2 }")
                Issue.record("bzip2 output accepted")
            } catch {
                #expect("\(error)".contains("'bzip2' is not one of none, gzip, zstd"), "\(error)")
            }
        }

        @Test(.enabled(if: CodecTools.has("zstd"), "zstd is not installed"))
        func zstdOutputIsReadByTheTool() throws {
            let plain = try Self.run(try Self.config("{ path: o }"))
            let zstd = try Self.run(try Self.config("{ path: o, compression: zstd, level: 5 }"))
            #expect(zstd.path.hasSuffix(".ndjson.zst"))
            #expect(zstd.bytes.withUnsafeBytes { Codecs.detect($0) }?.name == "zstd")
            let decoded = try Self.tool("zstd -dc", zstd.bytes)
            #expect(decoded.status == 0)
            #expect(decoded.text.elementsEqual(plain.bytes), "zstd -dc differs from the plain output")
            #expect(zstd.bytes.count < plain.bytes.count / 3)
        }

        @Test(arguments: ["gzip", "zstd"])
        func outputBytesDoNotDependOnWorkers(codec: String) throws {
            let one = try Self.run(try Self.config("{ path: o, compression: \(codec), level: 1 }", workers: 1))
            let four = try Self.run(try Self.config("{ path: o, compression: \(codec), level: 1 }", workers: 4))
            if codec == "gzip" && !one.bytes.elementsEqual(four.bytes) {
                // Say whether the text or only its compression differs.
                let a = try Self.tool("gzip -dc", one.bytes).text, b = try Self.tool("gzip -dc", four.bytes).text
                #expect(a.elementsEqual(b), "the uncompressed text differs between 1 and 4 workers (\(a.count) vs \(b.count) bytes)")
            }
            #expect(one.bytes.count == four.bytes.count)
            #expect(one.bytes.elementsEqual(four.bytes), "1 worker and 4 workers wrote different \(codec) bytes")
        }

        /// A run that keeps no record still writes a valid compressed file.
        @Test(arguments: [("gzip", "gzip -t"), ("zstd", "zstd -t -q"), ("gzip", "gzip -dc"), ("zstd", "zstd -dc")])
        func emptyOutputIsAValidFile(codec: String, check: String) throws {
            let tool = String(check.split(separator: " ")[0])
            try #require(CodecTools.has(tool), "\(tool) is not installed")
            for format in ["ndjson", "csv"] {
                let columns = format == "csv" ? ", columns: [id]" : ""
                let out = try Self.run(try Self.config("{ path: o, format: \(format), compression: \(codec)\(columns) }", filter: "false"))
                #expect(!out.bytes.isEmpty, "\(format).\(codec): 0 bytes")
                let result = try Self.tool(check, out.bytes)
                #expect(result.status == 0, "\(check) refuses the empty \(format) output")
                if check.hasSuffix("-dc") { #expect(result.text == (format == "csv" ? Array("id\r\n".utf8) : [])) }
            }
        }

        @Test func encodersRoundTripThroughSluice() throws {
            let text = sampleNDJSON(2000)
            for name in Codecs.encoderNames {
                let encoder = try #require(Codecs.named(name)?.encoder)
                for level in [encoder.levels.lowerBound, encoder.defaultLevel, encoder.levels.upperBound] {
                    var out: [UInt8] = []
                    text.withUnsafeBytes { encoder.compress($0, level: level, appendingTo: &out) }
                    [UInt8]().withUnsafeBytes { encoder.compress($0, level: level, appendingTo: &out) }
                    text.withUnsafeBytes { encoder.compress($0, level: level, appendingTo: &out) }
                    let dir = try TempDir()
                    let (outcome, records) = readTexts(try dir.write("x.ndjson", out))
                    #expect(outcome.failure == nil, "\(name) \(level): \(outcome.failure?.message ?? "")")
                    #expect(records.count == 4000, "\(name) level \(level)")
                }
            }
        }
    }
}
