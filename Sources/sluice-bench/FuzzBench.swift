import ArgumentParser
import Foundation
import Sluice

extension BenchCommand {
    /// `sluice-bench fuzz`: the randomized robustness checks of `Tests/SluiceTests/Robustness`,
    /// for as long as asked. A trap is the failure it hunts (the process dies: rerun with the
    /// printed seed); invariant violations are printed and make the exit status 1.
    struct Fuzz: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fuzz the JSON indexer, the NDJSON/JSON framers and the expression compiler for a while.")

        @Option(help: "Seconds to run.")
        var seconds: Double = 60

        @Option(help: "Seed of the first round; round k uses seed + k.")
        var seed: UInt64 = 1

        func run() throws {
            let deadline = Date().addingTimeInterval(seconds)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-fuzz-\(getpid())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            var round: UInt64 = 0
            var problems = 0
            var cases = 0
            while Date() < deadline {
                var rng = SplitMix64(seed: seed &+ round)
                let found = FuzzChecks.runRound(&rng, directory: directory)
                cases += found.cases
                for problem in found.problems {
                    print("seed \(seed &+ round): \(problem)")
                }
                problems += found.problems.count
                round += 1
            }
            print("fuzz: \(round) rounds, \(cases) cases, \(problems) problems")
            if problems > 0 { throw ExitCode.failure }
        }
    }
}

enum FuzzChecks {
    static let seeds = [
        #"{"id":1,"status":"shipped","total":12.5,"customer":{"id":"C1"},"items":[{"sku":"A","qty":2}]}"#,
        #"{"s":"caf\u00e9 \ud83d\ude00 \ud800","n":[1e400,-0,123456789012345678901234567890],"t":true,"f":false,"z":null}"#,
        #"[[[[{"a":[]}]]]]"#,
    ]
    static let special: [UInt8] = Array("{}[]\",:\\ \n\r\t0-+.eEu".utf8) + [0, 0x80, 0xC0, 0xED, 0xF4, 0xFF]
    static let expressionTokens = ["status", "total", "items[0]", "items[-1]", "items[*].qty", "1", "0", "-1", "9223372036854775807",
                                   "1e308", "\"a\"", "null", "true", "+", "-", "*", "/", "%", "==", "<", "&&", "||", "!", "in",
                                   "(", ")", "[", "]", ",", "len(", "round(", "substr(", "sum(", "abs(", "int(", "split("]

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<rng.int(1...4) {
            let at = rng.int(0...bytes.count)
            switch rng.int(0...4) {
            case 0 where !bytes.isEmpty: bytes[rng.int(0...bytes.count - 1)] ^= UInt8(1) << UInt8(rng.int(0...7))
            case 1: bytes.removeSubrange(at...)
            case 2: bytes.insert(special[rng.int(0...special.count - 1)], at: at)
            case 3 where !bytes.isEmpty: bytes.remove(at: rng.int(0...bytes.count - 1))
            default: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
            }
        }
        return bytes
    }

    /// One round: 2000 indexer cases, 1000 expressions, one NDJSON file read at three chunk sizes.
    static func runRound(_ rng: inout SplitMix64, directory: URL) -> (cases: Int, problems: [String]) {
        var problems: [String] = []
        for _ in 0..<2000 {
            let text = mutate(Array(seeds[rng.int(0...seeds.count - 1)].utf8), &rng)
            var tape: [TapeEntry] = []
            let padded = text + Array("\"]}0e".utf8)
            let a = text.withUnsafeBufferPointer { try? JSONIndexer.index($0, start: 0, end: $0.count, into: &tape) }
            var other: [TapeEntry] = []
            let b = padded.withUnsafeBufferPointer { try? JSONIndexer.index($0, start: 0, end: text.count, into: &other) }
            if (a == nil) != (b == nil) || tape != other {
                problems.append("indexer reads past the end of \(text)")
            }
        }
        for _ in 0..<1000 {
            let text = (0..<rng.int(1...10)).map { _ in expressionTokens[rng.int(0...expressionTokens.count - 1)] }.joined(separator: " ")
            do {
                _ = try CompiledExpression(text)
            } catch {
                if error.column < 1 || error.column > text.unicodeScalars.count + 1 {
                    problems.append("compile error column \(error.column) outside \(text.debugDescription)")
                }
            }
        }
        var lines: [UInt8] = []
        for _ in 0..<rng.int(1...200) {
            lines += mutate(Array(seeds[rng.int(0...seeds.count - 1)].utf8), &rng).filter { $0 != 0x0A }
            lines += rng.int(0...3) == 0 ? [0x0D, 0x0A] : [0x0A]
        }
        let url = directory.appendingPathComponent("round.ndjson")
        if (try? Data(lines).write(to: url)) != nil {
            let file = InputFile(relativePath: "round.ndjson", path: url.path, size: lines.count, mtime: 0)
            var results: [[String]] = []
            for chunkSize in [rng.int(2...16), rng.int(17...4096), 1 << 20] {
                var texts: [String] = []
                _ = FileReader.read(file, fileIndex: 0, options: ReadOptions(batchSize: 16, maxRecordBytes: 60, chunkSize: chunkSize)) { batch in
                    texts += batch.records.map { "\($0.line):" + String(decoding: batch.bytes[$0.start..<$0.end], as: UTF8.self) }
                    texts += batch.errors.map { "\($0.line ?? 0):\($0.kind)" }
                }
                results.append(texts)
            }
            if results.contains(where: { $0 != results[0] }) {
                problems.append("NDJSON framing depends on the chunk size")
            }
        }
        return (2000 + 1000 + 1, problems)
    }
}
