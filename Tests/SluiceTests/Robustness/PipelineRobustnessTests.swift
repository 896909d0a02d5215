import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension RobustnessTests {
    @Suite(.serialized) struct PipelineRobustnessTests {
        static let seed: UInt64 = 0x5EED_0006

        /// A directory of damaged inputs of every kind.
        static func makeDamagedInput(_ rng: inout SplitMix64) throws -> URL {
            let dir = TestSupport.temporaryDirectory("sluice-fuzz-in")
            for f in 0..<14 {
                var lines: [[UInt8]] = []
                for _ in 0..<rng.int(0...120) {
                    var line = Array(SampleRecords.record(using: &rng).utf8)
                    if rng.chance(0.2) { line = Mutator.mutate(line, using: &rng).filter { $0 != 0x0A } }
                    lines.append(line)
                }
                let body: [UInt8]
                let name: String
                switch f % 4 {
                case 0, 1:
                    body = Array(lines.joined(separator: rng.chance(0.5) ? [0x0A] : [0x0D, 0x0A]))
                    name = "f\(f).ndjson"
                case 2:
                    body = [UInt8(ascii: "[")] + Array(lines.joined(separator: [UInt8(ascii: ","), 0x0A])) + [UInt8(ascii: "]")]
                    name = "f\(f).json"
                default:
                    body = Array(rng.pick(SampleRecords.orders).utf8)
                    name = "f\(f).json"
                }
                var bytes = rng.chance(0.3) ? Mutator.mutate(body, using: &rng) : body
                var fileName = name
                if rng.chance(0.5) {
                    bytes = TestSupport.gzip(bytes)
                    if rng.chance(0.4) { bytes[rng.int(10..<bytes.count)] ^= 0x10 }
                    fileName += ".gz"
                }
                try Data(bytes).write(to: dir.appendingPathComponent(fileName))
            }
            return dir
        }

        static func config(workers: Int) throws -> PipelineConfig {
            try PipelineConfig.parse(yaml: """
                name: fuzz
                input: { path: unused, format: auto, readers: \(workers), max_record_bytes: 300 }
                batch_size: 7
                stages:
                  - name: keep
                    filter: 'status != "cancelled"'
                    workers: \(workers)
                    queue: 2
                  - name: check
                    validate: { required: [id], types: { id: int } }
                    workers: \(workers)
                  - name: shape
                    select: { id: id, total: 'total * 2', n: 'len(items)', c: customer.country }
                    workers: \(workers)
                output: { path: unused, compression: none }
                errors: { max_error_rate: 1 }
                """)
        }

        /// Damaged files through a real pipeline: the run ends, every record is accounted
        /// for, and the output does not depend on the worker count.
        @Test func damagedDirectoryRunsToTheEndAndAccountsForEveryRecord() throws {
            var rng = SplitMix64(seed: Self.seed)
            for round in 0..<3 {
                let input = try Self.makeDamagedInput(&rng)
                defer { TestSupport.cleanup(input) }
                var outputs: [[UInt8]] = []
                var reports: [[UInt8]] = []
                for workers in [1, 3] {
                    let out = TestSupport.temporaryDirectory("sluice-fuzz-out")
                    defer { TestSupport.cleanup(out) }
                    let summary = TestSupport.run(try Self.config(workers: workers), input: input, output: out)
                    let r = summary.records
                    #expect(r.in == r.out + r.filtered + r.failed + r.discarded + r.dropped - r.created,
                            "round \(round), workers \(workers): \(r)")
                    #expect(summary.files.seen == 14 && summary.files.processed + summary.files.failed == 14, "round \(round): \(summary.files)")
                    #expect(summary.exitCode == 0 || summary.exitCode == 1, "round \(round): \(summary.failure ?? "")")
                    outputs.append(TestSupport.read(out.appendingPathComponent("fuzz-test.ndjson")))
                    reports.append(TestSupport.read(out.appendingPathComponent("errors-test.ndjson")))
                }
                #expect(outputs[0] == outputs[1], "round \(round): output differs between 1 and 3 workers")
                #expect(reports[0] == reports[1], "round \(round): error report differs between 1 and 3 workers")
                #expect(!outputs[0].isEmpty)
            }
        }
    }
}
