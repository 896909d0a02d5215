/// How a file's records are delimited, once decided.
enum Framing: Equatable {
    case ndjson
    case jsonArray
    case jsonDocument
    case xml
}

/// Decides a file's framing from its name and the first decoded bytes.
///
/// With `format: auto` the extension decides first, ignoring a trailing `.gz`:
/// `.ndjson`, `.jsonl`, `.ldjson` → NDJSON; `.xml`, `.osm`, `.nxml` → XML. Otherwise
/// the first non-whitespace byte (after an optional UTF-8 BOM) decides: `[` → a JSON
/// array; `<` → XML; `{` → NDJSON when the first line holds a complete value (the structural scan is
/// back at depth 0 at the end of the line), else one JSON document; anything else →
/// NDJSON, whose records will fail to parse with a useful message.
/// With `format: json`, `[` → a JSON array and anything else → one JSON document.
enum FormatSniffer {
    /// Framing implied by the file name alone, if any.
    static func framing(forName name: String, format: InputFormat) -> Framing? {
        switch format {
        case .ndjson: return .ndjson
        case .xml: return .xml
        case .json: return nil
        case .auto: break
        }
        var name = Substring(name.lowercased())
        if name.hasSuffix(".gz") { name = name.dropLast(3) }
        guard let dot = name.lastIndex(of: "."), !name[dot...].contains("/") else { return nil }
        switch name[name.index(after: dot)...] {
        case "ndjson", "jsonl", "ldjson": return .ndjson
        case "xml", "osm", "nxml": return .xml
        default: return nil
        }
    }

    /// Length of a UTF-8 byte order mark at the start of `head`: 0 or 3, or nil when
    /// `head` is too short to tell and more input may follow.
    static func bomLength(_ head: [UInt8], isComplete: Bool) -> Int? {
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
    static func framing(forHead head: ArraySlice<UInt8>, format: InputFormat, isComplete: Bool, lineLimit: Int) -> Framing? {
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
}
