import Foundation
import Sluice

/// Deterministic order records for benchmarks: the same seed gives the same bytes.
///
/// Records look like the orders Sluice's users process (~300 bytes of NDJSON: ids,
/// timestamps, a nested customer, 1–5 items, a total), with ~10 % cancelled orders and
/// ~0.1 % records missing `total`, so that the filter and the error path both work.
struct OrderGenerator {
    private var random: SplitMix64

    init(seed: UInt64) {
        random = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
    }

    private mutating func below(_ n: Int) -> Int { random.below(n) }

    private static let statuses = ["paid", "paid", "paid", "shipped", "shipped", "pending", "refunded", "paid", "shipped", "cancelled"]
    private static let countries = ["DE", "FR", "NL", "US", "JP", "BR", "IN", "GB", "ES", "IT", "PL", "SE"]
    private static let names = ["Zoë Müller", "Łukasz Nowak", "李雷", "Seán O'Brien", "Ana Silva", "Jean Dupont", "Yuki Tanaka", "Priya Patel"]
    private static let notes = ["", "gift wrap", "leave at the door", "call before delivery \\\"urgent\\\"", "fragile: glass"]

    /// Appends one NDJSON record for order `id`.
    mutating func appendOrder(id: Int, to out: inout [UInt8]) {
        let day = 1 + below(28), hour = below(24), minute = below(60), second = below(60)
        let status = Self.statuses[below(Self.statuses.count)]
        let country = Self.countries[below(Self.countries.count)]
        let name = Self.names[below(Self.names.count)]
        let itemCount = 1 + below(5)
        var items: [String] = []
        var totalCents = 0
        for _ in 0..<itemCount {
            let qty = 1 + below(4)
            let cents = 99 + below(19_900)
            totalCents += qty * cents
            items.append("{\"sku\":\"SKU-\(100_000 + below(900_000))\",\"qty\":\(qty),\"price\":\(cents / 100).\(String(format: "%02d", cents % 100))}")
        }
        let total = "\(totalCents / 100).\(String(format: "%02d", totalCents % 100))"
        let missingTotal = below(1000) == 0
        var line = "{\"id\":\(id),\"ts\":\"2026-11-\(String(format: "%02d", day))T\(String(format: "%02d:%02d:%02d", hour, minute, second))Z\","
        line += "\"status\":\"\(status)\",\"customer\":{\"id\":\"c-\(below(250_000))\",\"country\":\"\(country)\",\"name\":\"\(name)\",\"email\":\"user\(below(1_000_000))@example.com\"},"
        line += "\"items\":[\(items.joined(separator: ","))],"
        if !missingTotal { line += "\"total\":\(total)," }
        line += "\"currency\":\"EUR\",\"notes\":\"\(Self.notes[below(Self.notes.count)])\"}\n"
        out.append(contentsOf: line.utf8)
    }

    /// Writes `files` gzip files totalling about `megabytes` MB of NDJSON.
    mutating func write(megabytes: Int, files: Int, level: Int, to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let perFile = max(1, megabytes * 1_000_000 / max(1, files))
        var id = 1
        var total = 0
        var compressed = 0
        for f in 0..<files {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(String(format: "orders-%04d.json.gz", f)).path
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            var written = 0
            var chunk: [UInt8] = []
            chunk.reserveCapacity(4 << 20)
            while written < perFile {
                chunk.removeAll(keepingCapacity: true)
                while chunk.count < 4 << 20 && written + chunk.count < perFile {
                    appendOrder(id: id, to: &chunk)
                    id += 1
                }
                written += chunk.count
                var member: [UInt8] = []
                chunk.withUnsafeBytes { GzipMember.compress($0, level: level, appendingTo: &member) }
                compressed += member.count
                try handle.write(contentsOf: member)
            }
            try handle.close()
            total += written
        }
        return "wrote \(id - 1) records, \(total) bytes of NDJSON (\(compressed) gzip) in \(files) files under \(directory)"
    }
}
