import Sluice

/// Measures JSON indexing and field access on order-like NDJSON, single-threaded.
///
/// Builds a deterministic in-memory buffer of about `megabytes` MB of order records, then
/// times (a) indexing every line onto a batch-sized tape and (b) indexing plus reading
/// `status`, `customer.country`, `len(items)` and `total` (as a number) from each record.
/// Each measurement is the best of several passes.
///
/// - Returns: A short report, one line per measurement.
func runJSONBenchmark(megabytes: Int) -> String {
    let (buffer, lines) = makeOrderRecords(bytes: Swift.max(1, megabytes) << 20)
    let megabytesIndexed = Double(buffer.count) / 1_048_576
    let batchSize = 1024
    var tape: [TapeEntry] = []
    var checksum = 0

    func bestTime(_ passes: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<passes {
            let started = ContinuousClock.now
            body()
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            best = Swift.min(best, seconds)
        }
        return best
    }

    let indexOnly = buffer.withUnsafeBufferPointer { bytes in
        bestTime(5) {
            var first = 0
            while first < lines.count {
                tape.removeAll(keepingCapacity: true)
                for line in lines[first..<Swift.min(first + batchSize, lines.count)] {
                    do {
                        checksum &+= try JSONIndexer.index(bytes, start: line.lowerBound, end: line.upperBound, into: &tape)
                    } catch {
                        fatalError("benchmark record does not parse: \(error)")
                    }
                }
                first += batchSize
            }
        }
    }

    let status = Array("status".utf8), customer = Array("customer".utf8), country = Array("country".utf8)
    let items = Array("items".utf8), total = Array("total".utf8), paid = Array("paid".utf8)
    var paidCount = 0, itemCount = 0, sum = 0.0
    let withAccess = buffer.withUnsafeBufferPointer { bytes in
        bestTime(5) {
            paidCount = 0; itemCount = 0; sum = 0
            var first = 0
            var roots: [Int] = []
            roots.reserveCapacity(batchSize)
            while first < lines.count {
                tape.removeAll(keepingCapacity: true)
                roots.removeAll(keepingCapacity: true)
                for line in lines[first..<Swift.min(first + batchSize, lines.count)] {
                    do {
                        roots.append(try JSONIndexer.index(bytes, start: line.lowerBound, end: line.upperBound, into: &tape))
                    } catch {
                        fatalError("benchmark record does not parse: \(error)")
                    }
                }
                tape.withUnsafeBufferPointer { tape in
                    let view = JSONView(bytes: bytes, tape: tape)
                    for root in roots {
                        if let s = view.member(of: root, key: status), view.stringEquals(s, paid) { paidCount += 1 }
                        if let c = view.member(of: root, key: customer), let k = view.member(of: c, key: country) {
                            checksum &+= view.rawBytes(k).count
                        }
                        if let list = view.member(of: root, key: items) { itemCount += view.count(list) }
                        if let t = view.member(of: root, key: total), let n = view.number(t) { sum += n.doubleValue }
                    }
                }
                first += batchSize
            }
        }
    }

    let records = lines.count
    func line(_ label: String, _ seconds: Double) -> String {
        let rate = megabytesIndexed / seconds
        let perRecord = seconds / Double(records) * 1e9
        return "\(label): \(Int(rate.rounded())) MB/s, \(Int(perRecord.rounded())) ns/record"
    }
    return """
        JSON benchmark: \(records) order records, \(Int(megabytesIndexed.rounded())) MB, avg \(buffer.count / Swift.max(records, 1)) bytes/record, single thread
        \(line("index only      ", indexOnly))
        \(line("index + 4 fields", withAccess))
        (paid \(paidCount), items \(itemCount), total sum \(Int(sum)), checksum \(checksum & 0xFFFF))
        """
}

/// Deterministic order records, one per line; returns the buffer and each line's byte range.
private func makeOrderRecords(bytes target: Int) -> ([UInt8], [Range<Int>]) {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func random(_ bound: Int) -> Int {
        // xorshift64*: fast, deterministic, good enough to vary record shapes.
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Int((state &* 0x2545_F491_4F6C_DD1D) >> 33) % bound
    }
    let statuses = ["paid", "pending", "cancelled", "shipped", "refunded"]
    let countries = ["DE", "FR", "US", "GB", "NL", "SE", "JP", "BR"]
    let notes = ["", "leave at the door", "gift wrap, please — thanks!", "call before delivery", "fragile \"glass\" inside"]
    var writer = JSONWriter(capacity: target + 1024)
    var lines: [Range<Int>] = []
    var id = 1000
    while writer.bytes.count < target {
        let start = writer.bytes.count
        id += 1
        writer.beginObject()
        writer.key("id"); writer.write(id)
        writer.key("ts"); writer.write("2026-01-\(10 + random(18))T\(10 + random(13)):0\(random(10)):\(10 + random(49))Z")
        writer.key("status"); writer.write(statuses[random(statuses.count)])
        writer.key("customer")
        writer.beginObject()
        let customer = random(100_000)
        writer.key("id"); writer.write("c-\(customer)")
        writer.key("country"); writer.write(countries[random(countries.count)])
        writer.key("email"); writer.write("customer\(customer)@example.com")
        writer.endObject()
        writer.key("items")
        writer.beginArray()
        var total = 0
        for _ in 0..<(1 + random(4)) {
            let qty = 1 + random(5), cents = 99 + random(10_000)
            total += qty * cents
            writer.beginObject()
            writer.key("sku"); writer.write("\(["A", "B", "C", "D"][random(4)])-\(random(1000))")
            writer.key("qty"); writer.write(qty)
            writer.key("price"); writer.write(Double(cents) / 100)
            writer.endObject()
        }
        writer.endArray()
        writer.key("total"); writer.write(Double(total) / 100)
        writer.key("notes"); writer.write(notes[random(notes.count)])
        writer.endObject()
        lines.append(start..<writer.bytes.count)
        writer.endRecord()
    }
    return (writer.bytes, lines)
}
