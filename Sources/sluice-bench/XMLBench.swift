import CLibXML2
import CZlib
import Foundation
import Sluice

/// Deterministic gzip XML order files (`<orders><order id=".."><ts>..</ts>…</order>…</orders>`),
/// the shape of `fixtures/orders-xml`, about 600 bytes per order.
struct XMLOrderGenerator {
    private var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15) }

    private mutating func below(_ n: Int) -> Int { random.below(n) }

    private static let statuses = ["paid", "paid", "paid", "shipped", "shipped", "pending", "refunded", "paid", "shipped", "cancelled"]
    private static let countries = ["DE", "FR", "NL", "US", "JP", "BR", "IN", "GB", "ES", "IT", "PL", "SE"]
    private static let names = ["Zoë Müller", "Łukasz Nowak", "李雷", "Seán O&apos;Brien", "Ana Silva", "Jean Dupont", "Yuki Tanaka", "Priya Patel"]

    mutating func appendOrder(id: Int, to out: inout String) {
        let cents2 = { (c: Int) in "\(c / 100).\(c % 100 < 10 ? "0" : "")\(c % 100)" }
        var total = 0
        var items = ""
        for _ in 0..<(1 + below(5)) {
            let qty = 1 + below(4), cents = 99 + below(19_900)
            total += qty * cents
            items += "\n      <item sku=\"SKU-\(100_000 + below(900_000))\" qty=\"\(qty)\"><price>\(cents2(cents))</price></item>"
        }
        out += "  <order id=\"\(id)\">\n    <ts>2026-11-\(10 + below(18))T\(10 + below(14)):\(10 + below(50)):00Z</ts>\n"
        out += "    <status>\(Self.statuses[below(Self.statuses.count)])</status>\n"
        out += "    <customer id=\"c-\(below(250_000))\"><country>\(Self.countries[below(Self.countries.count)])</country>"
        out += "<name>\(Self.names[below(Self.names.count)])</name><email>user\(below(1_000_000))@example.com</email></customer>\n"
        out += "    <items>\(items)\n    </items>\n"
        if below(1000) != 0 { out += "    <total>\(cents2(total))</total>\n" }
        out += "    <currency>EUR</currency>\n  </order>\n"
    }

    mutating func write(megabytes: Int, files: Int, to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let perFile = max(1, megabytes * 1_000_000 / max(1, files))
        var id = 1, total = 0
        for f in 0..<files {
            let path = directory + "/" + String(format: "orders-%04d.xml.gz", f)
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders>\n"
            var written = 0
            func flush() throws {
                var member: [UInt8] = []
                Array(text.utf8).withUnsafeBytes { GzipMember.compress($0, level: 6, appendingTo: &member) }
                written += text.utf8.count
                try handle.write(contentsOf: member)
                text = ""
            }
            while written + text.utf8.count < perFile {
                appendOrder(id: id, to: &text)
                id += 1
                if text.utf8.count > 4 << 20 { try flush() }
            }
            text += "</orders>\n"
            try flush()
            try handle.close()
            total += written
        }
        return "wrote \(id - 1) orders, \(total) bytes of XML in \(files) files under \(directory)"
    }
}

/// XML throughput on gzip files: libxml2's push parser with no-op SAX callbacks and
/// libxml2's xmlTextReader (one thread each, gunzip included), and Sluice's XML framing
/// into record batches — as a reader runs it (gunzip and the markup guard on its helper
/// thread), and all on one thread (chunks larger than the file, so nothing is inflated ahead).
func runXMLBenchmark(paths: [String]) -> String {
    var lines: [String] = []
    let decoded = paths.reduce(0) { $0 + gunzippedSize($1) }
    let mb = Double(decoded) / 1e6
    func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    // SLUICE_BENCH_XML_ONLY=sluice (or push, reader) runs one measurement alone, for profiling.
    let only = ProcessInfo.processInfo.environment["SLUICE_BENCH_XML_ONLY"]
    if let only, ["push", "reader", "sluice"].contains(only) == false {
        return "SLUICE_BENCH_XML_ONLY must be push, reader or sluice"
    }
    let sax = only == nil || only == "push" ? time { for p in paths { pushParse(p) } } : .nan
    if only == nil || only == "push" { lines.append(String(format: "libxml2 push + no-op SAX: %.1f MB/s", mb / sax)) }
    if only == nil || only == "reader" {
        let reader = time { for p in paths { readerParse(p) } }
        lines.append(String(format: "libxml2 xmlTextReader:    %.1f MB/s", mb / reader))
    }
    if only != nil && only != "sluice" { return lines.joined(separator: "\n") }
    func frame(chunkSize: Int) -> (seconds: Double, records: Int) {
        var records = 0
        let options = ReadOptions(format: .xml, chunkSize: chunkSize,
                                  xml: XMLOptions(records: [XMLRecordPath("/orders/order")!], arrays: ["item"]))
        let seconds = time {
            for (i, p) in paths.enumerated() {
                let file = InputFile(relativePath: p, path: p, size: 0, mtime: 0)
                records += FileReader.read(file, fileIndex: i, options: options) { _ in }.records
            }
        }
        return (seconds, records)
    }
    let framing = frame(chunkSize: ReadOptions().chunkSize)
    lines.append(String(format: "Sluice XML → record batches: %.1f MB/s (%.0f%% of push SAX), %d records",
                        mb / framing.seconds, 100 * sax / framing.seconds, framing.records))
    let largest = paths.compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int }.max() ?? 0
    let inline = frame(chunkSize: largest + 1)
    lines.append(String(format: "  same, one thread:          %.1f MB/s (%.0f%% of push SAX)", mb / inline.seconds, 100 * sax / inline.seconds))
    lines.append(String(format: "(%.1f MB of XML in %d files)", mb, paths.count))
    return lines.joined(separator: "\n")
}

private func gunzippedSize(_ path: String) -> Int {
    guard let gz = gzopen(path, "rb") else { return 0 }
    defer { gzclose(gz) }
    var buffer = [UInt8](repeating: 0, count: 256 << 10)
    var total = 0
    while true {
        let n = buffer.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
        if n <= 0 { return total }
        total += Int(n)
    }
}

private func pushParse(_ path: String) {
    guard let gz = gzopen(path, "rb") else { return }
    defer { gzclose(gz) }
    var sax = xmlSAXHandler()
    xmlSAXVersion(&sax, 2)
    sax.startElementNs = { _, _, _, _, _, _, _, _, _ in }
    sax.endElementNs = { _, _, _, _ in }
    sax.characters = { _, _, _ in }
    sax.ignorableWhitespace = sax.characters
    guard let ctxt = xmlCreatePushParserCtxt(&sax, nil, nil, 0, nil) else { return }
    xmlCtxtUseOptions(ctxt, Int32(XML_PARSE_NONET.rawValue))
    var buffer = [CChar](repeating: 0, count: 256 << 10)
    while true {
        let n = buffer.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
        if n <= 0 { break }
        buffer.withUnsafeBufferPointer { _ = xmlParseChunk(ctxt, $0.baseAddress, n, 0) }
    }
    xmlParseChunk(ctxt, nil, 0, 1)
    if let doc = ctxt.pointee.myDoc { xmlFreeDoc(doc) }
    xmlFreeParserCtxt(ctxt)
}

private func readerParse(_ path: String) {
    guard let gz = gzopen(path, "rb") else { return }
    let box = UnsafeMutableRawPointer(gz)
    let read: xmlInputReadCallback = { context, buffer, length in
        gzread(context?.assumingMemoryBound(to: gzFile_s.self), buffer, UInt32(length))
    }
    let close: xmlInputCloseCallback = { context in gzclose(context?.assumingMemoryBound(to: gzFile_s.self)) }
    guard let reader = xmlReaderForIO(read, close, box, nil, nil, Int32(XML_PARSE_NONET.rawValue)) else { return }
    while xmlTextReaderRead(reader) == 1 {}
    xmlFreeTextReader(reader)
}
