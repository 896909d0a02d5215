/// Reads RFC 4180 CSV: comma-separated fields, fields in double quotes may hold commas,
/// line breaks and `""` (one quote); records end with CRLF or LF. A UTF-8 byte-order mark
/// at the start is skipped, and so are empty lines (a CSV record with one empty field
/// cannot be told apart from them). Strict where the RFC is: a quote inside an unquoted
/// field, text after a closing quote, or a quote left open at the end are errors.
struct CSVReader {
    /// A problem in the text, with the 1-based line where its record starts.
    struct Problem: Error, Equatable {
        var line: Int
        var message: String
    }

    /// One record: its fields as UTF-8 bytes (unescaped) and the line where it starts.
    struct Record {
        var fields: [[UInt8]]
        var line: Int
    }

    /// Every record of `text`, in order.
    ///
    /// - Throws: ``Problem`` for malformed quoting.
    /// - Complexity: O(bytes).
    package static func records(_ text: [UInt8]) throws(Problem) -> [Record] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        var records: [Record] = []
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var i = text.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        var recordLine = 1
        // Whether the record has any byte yet (an empty line has none), and whether the
        // current field was quoted (a second quote run in one field is an error).
        var recordStarted = false
        var fieldQuoted = false
        func endRecord() {
            if !recordStarted {
                // An empty line.
            } else {
                fields.append(field)
                records.append(Record(fields: fields, line: recordLine))
            }
            fields = []
            field = []
            recordStarted = false
            fieldQuoted = false
        }
        while i < text.count {
            let c = text[i]
            if c == quote {
                guard field.isEmpty && !fieldQuoted else {
                    throw Problem(line: line, message: "a quote inside an unquoted field (quote the whole field and double the quote)")
                }
                recordStarted = true
                fieldQuoted = true
                let openLine = line
                i += 1
                var closed = false
                while i < text.count {
                    let d = text[i]
                    if d == quote {
                        if i + 1 < text.count && text[i + 1] == quote {
                            field.append(quote)
                            i += 2
                            continue
                        }
                        closed = true
                        i += 1
                        break
                    }
                    if d == lf { line += 1 }
                    field.append(d)
                    i += 1
                }
                guard closed else { throw Problem(line: openLine, message: "a quoted field is not closed") }
                if i < text.count, text[i] != comma, text[i] != lf, !(text[i] == cr && i + 1 < text.count && text[i + 1] == lf), !(text[i] == cr && i + 1 == text.count) {
                    throw Problem(line: line, message: "text after the closing quote of a field")
                }
                continue
            }
            if c == comma {
                fields.append(field)
                field = []
                recordStarted = true
                fieldQuoted = false
                i += 1
                continue
            }
            if c == lf || (c == cr && (i + 1 == text.count || text[i + 1] == lf)) {
                endRecord()
                i += c == cr && i + 1 < text.count ? 2 : 1
                line += 1
                recordLine = line
                continue
            }
            field.append(c)
            recordStarted = true
            i += 1
        }
        endRecord()
        return records
    }
}
