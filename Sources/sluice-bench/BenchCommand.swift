import ArgumentParser
import Foundation
import Sluice

/// `sluice-bench`: benchmarks and the benchmark data generator. Timings come from
/// here and from `bench/*.sh`, never from tests.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-bench",
        abstract: "Sluice benchmarks and benchmark data.",
        subcommands: [Generate.self, JSON.self, Stages.self, Command.self, GenerateXML.self, XML.self, Fuzz.self, Codecs.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write N MB (uncompressed) of deterministic gzip NDJSON order records.")

        @Option(help: "Uncompressed megabytes to write in total.")
        var megabytes: Int = 150

        @Option(help: "Number of files to spread them over.")
        var files: Int = 16

        @Option(help: "Gzip level of the generated files.")
        var level: Int = 6

        @Option(help: "Seed of the generator: the same seed writes the same records.")
        var seed: UInt64 = 42

        @Argument(help: "Directory to write into (created).")
        var directory: String

        func run() throws {
            var generator = OrderGenerator(seed: seed)
            let report = try generator.write(megabytes: megabytes, files: files, level: level, to: directory)
            print(report)
        }
    }

    struct JSON: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "JSON index and field-access throughput, one thread.")

        @Option(help: "Megabytes of NDJSON to index.")
        var megabytes: Int = 200

        func run() {
            print(runJSONBenchmark(megabytes: megabytes))
        }
    }

    struct GenerateXML: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-xml", abstract: "Write N MB (uncompressed) of deterministic gzip XML order files.")

        @Option(help: "Uncompressed megabytes to write in total.")
        var megabytes: Int = 100

        @Option(help: "Number of files to spread them over.")
        var files: Int = 8

        @Argument(help: "Directory to write into (created).")
        var directory: String

        func run() throws {
            var generator = XMLOrderGenerator(seed: 42)
            print(try generator.write(megabytes: megabytes, files: files, to: directory))
        }
    }

    struct Codecs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inflate/deflate MB/s of every codec, one thread, beside the codecs' own tools; bzip2 with 1 and 2 decode threads.")

        @Option(help: "Megabytes of NDJSON orders to compress and decompress.")
        var megabytes: Int = 100

        @Option(help: "Runs per measurement (the best is shown).")
        var repeats: Int = 3

        func run() throws {
            print(try runCodecBenchmark(megabytes: megabytes, repeats: repeats))
        }
    }

    struct XML: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "XML MB/s, one thread: libxml2 push SAX and xmlTextReader parse-only, and Sluice's framing into records.")

        @Argument(help: "Gzip XML order files (see generate-xml).")
        var files: [String]

        func run() {
            print(runXMLBenchmark(paths: files))
        }
    }

    struct Stages: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "filter + validate + select records/s, one thread.")

        @Option(help: "Records to push through the stages.")
        var records: Int = 1_000_000

        @Flag(help: "Use the expression-heavy variant (in, starts_with, if, coalesce, lower, sum over items[*]).")
        var expressions = false

        func run() {
            print(runStageBenchmark(records: records, expressionHeavy: expressions))
        }
    }

    struct Command: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "records/s through a command stage whose worker echoes its input (default: cat).")

        @Option(help: "Records per round.")
        var records: Int = 100_000

        @Option(help: "Records per batch.")
        var batchSize: Int = 1024

        @Option(help: "Stage worker threads, each with its own child process.")
        var workers: Int = 1

        @Argument(help: "The worker's argv (after --).")
        var argv: [String] = ["cat"]

        func run() {
            print(runCommandBenchmark(records: records, batchSize: batchSize, threads: workers, argv: argv))
        }
    }
}
