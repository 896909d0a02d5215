/// How a file's records are delimited, once decided.
package enum Framing: Equatable {
    case ndjson
    case jsonArray
    case jsonDocument
    case xml
}

/// Decides a file's framing from its name and the first decoded bytes.
///
/// With `format: auto` the extension decides first, ignoring a codec's suffix (`.gz`,
/// `.zst`, `.bz2`, `.xz`, see ``Codecs``):
/// `.ndjson`, `.jsonl`, `.ldjson` → NDJSON; `.xml`, `.osm`, `.nxml` → XML. Otherwise
/// the first non-whitespace byte (after an optional UTF-8 BOM) decides: `[` → a JSON
/// array; `<` → XML; `{` → NDJSON when the first line holds a complete value (the structural scan is
/// back at depth 0 at the end of the line), else one JSON document; anything else →
/// NDJSON, whose records will fail to parse with a useful message.
/// With `format: json`, `[` → a JSON array and anything else → one JSON document.
package enum FormatSniffer {
    /// Framing implied by the file name alone, if any.
    package static func framing(forName name: String, format: InputFormat) -> Framing? {
        switch format {
        case .ndjson: return .ndjson
        case .xml: return .xml
        case .json: return nil
        case .auto: break
        }
        let name = Substring(Codecs.strippingSuffix(name.lowercased()))
        guard let dot = name.lastIndex(of: "."), !name[dot...].contains("/") else { return nil }
        switch name[name.index(after: dot)...] {
        case "ndjson", "jsonl", "ldjson": return .ndjson
        case "xml", "osm", "nxml": return .xml
        default: return nil
        }
    }

    /// Length of a UTF-8 byte order mark at the start of `head`: 0 or 3, or nil when
    /// `head` is too short to tell and more input may follow.
    package static func bomLength(_ head: [UInt8], isComplete: Bool) -> Int? {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        if head.count >= 3 { return Array(head.prefix(3)) == bom ? 3 : 0 }
        if !isComplete && Array(bom.prefix(head.count)) == head { return nil }
        return 0
    }

    /// Framing decided from the first decoded bytes, or nil when more bytes are needed.
    ///
    /// - Parameters:
    ///   - head: the decoded bytes so far, after the BOM.
    ///   - isComplete: true when `head` is the whole file.
    ///   - lineLimit: how far to look for the end of the first line before settling on NDJSON.
    package static func framing(forHead head: ArraySlice<UInt8>, format: InputFormat, isComplete: Bool, lineLimit: Int) -> Framing? {
        guard let first = head.firstIndex(where: { !isJSONSpace($0) }) else {
            return isComplete ? .ndjson : nil
        }
        let byte = head[first]
        if format == .json { return byte == UInt8(ascii: "[") ? .jsonArray : .jsonDocument }
        if byte == UInt8(ascii: "[") { return .jsonArray }
        if byte == UInt8(ascii: "<") { return .xml }
        guard byte == UInt8(ascii: "{") else { return .ndjson }
        guard let newline = head[first...].firstIndex(of: 0x0A) else {
            return isComplete || head.count - first > lineLimit ? .ndjson : nil
        }
        return firstLineIsComplete(head[first..<newline]) ? .ndjson : .jsonDocument
    }

    /// True when a structural scan of `line` ends outside strings at depth 0.
    private static func firstLineIsComplete(_ line: ArraySlice<UInt8>) -> Bool {
        var depth = 0
        var isInString = false
        var isEscaped = false
        for byte in line {
            if isInString {
                if isEscaped {
                    isEscaped = false
                } else if byte == UInt8(ascii: "\\") {
                    isEscaped = true
                } else if byte == UInt8(ascii: "\"") {
                    isInString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): isInString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        return depth == 0 && !isInString
    }

    // MARK: Text that is not what Sluice reads

    /// Bytes of decoded text that ``textProblem(_:rejectsHTML:)`` judges.
    static let textSample = 4096

    /// Why the first decoded bytes of a file are not JSON, NDJSON or XML text in UTF-8,
    /// or nil when they may be: UTF-16 or UTF-32 (with a byte order mark, or ASCII with
    /// zero bytes between), binary data (control bytes), and an HTML page (an error page
    /// saved under a data file's name). Not used for files read as XML: libxml2 reads
    /// UTF-16 and XHTML, and fails other bytes at once.
    ///
    /// Looks at the first ``textSample`` bytes; costs nothing per record.
    static func textProblem(_ head: UnsafeBufferPointer<UInt8>) -> String? {
        let sample = UnsafeBufferPointer(rebasing: head.prefix(textSample))
        func convert(_ encoding: String, _ how: String) -> String {
            "\(encoding) text (\(how)), not UTF-8: convert it first, e.g. `iconv -f \(encoding) -t UTF-8`"
        }
        let b = Array(sample.prefix(4))
        if b.count >= 4 {
            if b == [0xFF, 0xFE, 0, 0] { return convert("UTF-32LE", "byte order mark FF FE 00 00") }
            if b == [0, 0, 0xFE, 0xFF] { return convert("UTF-32BE", "byte order mark 00 00 FE FF") }
            if b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0 { return convert("UTF-32BE", "no byte order mark") }
            if b[0] != 0 && b[1] == 0 && b[2] == 0 && b[3] == 0 { return convert("UTF-32LE", "no byte order mark") }
        }
        if b.count >= 2 {
            if b[0] == 0xFF && b[1] == 0xFE { return convert("UTF-16LE", "byte order mark FF FE") }
            if b[0] == 0xFE && b[1] == 0xFF { return convert("UTF-16BE", "byte order mark FE FF") }
        }
        if b.count >= 4 {
            if b[0] == 0 && b[1] != 0 && b[2] == 0 && b[3] != 0 { return convert("UTF-16BE", "no byte order mark") }
            if b[0] != 0 && b[1] == 0 && b[2] != 0 && b[3] == 0 { return convert("UTF-16LE", "no byte order mark") }
        }
        // Binary: many control bytes, or zero bytes, in a sample long enough to judge
        // (random bytes hold about 11 % control bytes; text, even with ANSI colours, a few).
        var control = 0, zeros = 0
        var first: Int?
        // Eight bytes at a time: a word with no byte below 0x20 and none equal to 0x7F holds
        // no control byte (most words of a text file); only the others are looked at byte
        // by byte. A file of a few records is all sample: this ran once per byte of it.
        var i = 0
        if let base = sample.baseAddress {
            let lows: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while i < sample.count {
                if i + 8 <= sample.count {
                    let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                    let below20 = (word &- 0x20 &* lows) & ~word & highs
                    let del = word ^ (0x7F &* lows)
                    let is7F = (del &- lows) & ~del & highs
                    if below20 == 0 && is7F == 0 {
                        i += 8
                        continue
                    }
                }
                let end = min(sample.count, i + 8)
                while i < end {
                    let byte = base[i]
                    if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0C && byte != 0x0D || byte == 0x7F {
                        control += 1
                        if byte == 0 { zeros += 1 }
                        if first == nil { first = i }
                    }
                    i += 1
                }
            }
        }
        if let first, sample.count >= 256, control * 100 >= 8 * sample.count || zeros * 100 >= sample.count {
            return "binary data, not text (\(control) control bytes in the first \(sample.count), the first 0x\(String(sample[first], radix: 16, uppercase: true)) at byte \(first))"
        }
        do {
            var start = 0
            if sample.count >= 3 && sample[0] == 0xEF && sample[1] == 0xBB && sample[2] == 0xBF { start = 3 }
            while start < sample.count && isJSONSpace(sample[start]) { start += 1 }
            let text = String(decoding: UnsafeBufferPointer(rebasing: sample[start..<min(sample.count, start + 15)]), as: UTF8.self).lowercased()
            if text.hasPrefix("<!doctype html") || text.hasPrefix("<html") {
                return "an HTML page, not JSON or XML data (it starts with \(text.hasPrefix("<html") ? "<html" : "<!DOCTYPE html")): was an error page saved under this name?"
            }
        }
        return nil
    }
}
