import Foundation
import Sluice

/// Inflate and deflate throughput of every codec, one thread, on the bench's NDJSON
/// orders, side by side with the codecs' own command-line tools on the same bytes in the
/// same run; and a multi-stream bzip2 file read with 1 and 2 decode threads.
func runCodecBenchmark(megabytes: Int, repeats: Int) throws -> String {
    var generator = OrderGenerator(seed: 42)
    var plain: [UInt8] = []
    plain.reserveCapacity(megabytes * 1_000_000 + 4096)
    var id = 1
    while plain.count < megabytes * 1_000_000 {
        generator.appendOrder(id: id, to: &plain)
        id += 1
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-codec-bench-\(getpid())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let plainPath = dir + "/orders.ndjson"
    try Data(plain).write(to: URL(fileURLWithPath: plainPath))
    let mb = Double(plain.count) / 1e6
    var lines = ["\(String(format: "%.0f", mb)) MB of NDJSON orders; best of \(repeats); MB/s of uncompressed data, one thread (tools: one process)"]

    func best(_ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.min() ?? 0
    }
    func rate(_ seconds: Double) -> String { String(format: "%7.0f MB/s", mb / seconds) }
    func tool(_ command: String) -> Double? {
        let name = String(command.split(separator: " ")[0])
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/" + name) else { return nil }
        return best {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command + " > /dev/null"]
            process.currentDirectoryURL = URL(fileURLWithPath: dir)
            try? process.run()
            process.waitUntilExit()
        }
    }
    func shell(_ command: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        try? process.run()
        process.waitUntilExit()
    }

    // Deflate.
    lines.append("deflate (compress):")
    var gz6: [UInt8] = [], zst: [UInt8] = []
    for (library, level) in [(GzipMember.Library.isal, 1), (.libdeflate, 1), (.zlib, 1), (.isal, 3), (.libdeflate, 6), (.zlib, 6)] {
        var out: [UInt8] = []
        var ok = true
        let seconds = best {
            out.removeAll(keepingCapacity: true)
            ok = plain.withUnsafeBytes { GzipMember.compress($0, level: level, library: library, appendingTo: &out) }
        }
        guard ok else { lines.append("  gzip -\(level) \(library.rawValue): not installed"); continue }
        if library == .zlib && level == 6 { gz6 = out }
        lines.append("  gzip -\(level) \(library.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(rate(seconds))  ratio \(String(format: "%.2f", Double(plain.count) / Double(out.count)))")
    }
    if let zstd = Codecs.named("zstd")?.encoder {
        for level in [1, 3, 9] {
            var out: [UInt8] = []
            let seconds = best {
                out.removeAll(keepingCapacity: true)
                plain.withUnsafeBytes { zstd.compress($0, level: level, appendingTo: &out) }
            }
            if level == 3 { zst = out }
            lines.append("  zstd -\(level)             \(rate(seconds))  ratio \(String(format: "%.2f", Double(plain.count) / Double(out.count)))")
        }
    }
    for command in ["igzip -1 -c orders.ndjson", "gzip -1 -c orders.ndjson", "pigz -1 -p 1 -c orders.ndjson", "gzip -6 -c orders.ndjson", "zstd -q -1 -c orders.ndjson", "zstd -q -3 -c orders.ndjson"] {
        if let seconds = tool(command) { lines.append("  tool: \(command.padding(toLength: 32, withPad: " ", startingAt: 0)) \(rate(seconds))") }
    }

    // Inflate, through Sluice's codec table.
    try Data(gz6).write(to: URL(fileURLWithPath: dir + "/orders.ndjson.gz"))
    try Data(zst).write(to: URL(fileURLWithPath: dir + "/orders.ndjson.zst"))
    shell("bzip2 -9 -k -c orders.ndjson > orders.ndjson.bz2; xz -6 -T1 -k -c orders.ndjson > orders.ndjson.xz")
    lines.append("inflate (decompress):")
    let gzipCodec = Codecs.named("gzip")!
    let inputs: [(String, String, CodecOptions)] = [
        ("gzip " + Codecs.gzipLibrary(CodecOptions(usesFallback: false)), "orders.ndjson.gz", CodecOptions(usesFallback: false)),
        ("gzip zlib", "orders.ndjson.gz", CodecOptions(usesFallback: true)),
        ("zstd", "orders.ndjson.zst", CodecOptions()),
        ("bzip2", "orders.ndjson.bz2", CodecOptions()),
        ("xz", "orders.ndjson.xz", CodecOptions()),
    ]
    for (label, file, options) in inputs {
        guard let bytes = FileManager.default.contents(atPath: dir + "/" + file).map([UInt8].init), !bytes.isEmpty else { continue }
        let codec = bytes.withUnsafeBytes { Codecs.detect($0) } ?? gzipCodec
        var size = 0
        var failure: String?
        let seconds = best {
            let result: Result<Int, CodecError> = bytes.withUnsafeBytes { raw in
                var count = 0
                do throws(CodecError) {
                    try Codecs.decode(raw, codec: codec, options: options) { count += $0.count }
                    return .success(count)
                } catch {
                    return .failure(error)
                }
            }
            switch result {
            case .success(let count): size = count
            case .failure(let error): failure = error.message
            }
        }
        if let failure { lines.append("  \(label): \(failure)"); continue }
        lines.append("  \(label.padding(toLength: 26, withPad: " ", startingAt: 0)) \(rate(seconds))\(size == plain.count ? "" : "  (size mismatch)")")
    }
    for command in ["igzip -dc orders.ndjson.gz", "gzip -dc orders.ndjson.gz", "pigz -dc orders.ndjson.gz", "zstd -dc orders.ndjson.zst", "bzip2 -dc orders.ndjson.bz2", "xz -dc orders.ndjson.xz"] {
        if let seconds = tool(command) { lines.append("  tool: \(command.padding(toLength: 32, withPad: " ", startingAt: 0)) \(rate(seconds))") }
    }

    // bzip2 multi-stream, read into NDJSON records with 1 and 2 decode threads.
    shell("split -b 4000000 orders.ndjson part- && for p in part-*; do bzip2 -9 -c \"$p\"; done > multi.ndjson.bz2 && rm part-*")
    let multi = dir + "/multi.ndjson.bz2"
    if let size = (try? FileManager.default.attributesOfItem(atPath: multi)[.size] as? Int) ?? nil, size > 0 {
        lines.append("multi-stream bzip2 (4 MB streams), FileReader into NDJSON batches:")
        for threads in [1, 2] {
            var options = ReadOptions()
            options.codecs.decodeThreads = threads
            var records = 0
            let seconds = best {
                records = FileReader.read(InputFile(relativePath: "multi.ndjson.bz2", path: multi, size: size, mtime: 0), fileIndex: 0, options: options) { _ in }.records
            }
            lines.append("  \(threads) decode thread\(threads == 1 ? " " : "s") \(rate(seconds))  (\(records) records)")
        }
        if let seconds = tool("bzip2 -dc multi.ndjson.bz2") { lines.append("  tool: bzip2 -dc multi.ndjson.bz2          \(rate(seconds))") }
    }
    return lines.joined(separator: "\n")
}
