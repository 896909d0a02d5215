/// `format: csv`: an RFC 4180 header row (the `columns` expressions' text), then one
/// CRLF-terminated row per record; a column whose expression fails fails the record
/// (kind `transform`).
struct CSVFormat: RowFormat {
    let columns: [String]
    let compiled: [CompiledExpression]

    init(spec: OutputSpec) {
        columns = spec.columns
        compiled = spec.compiledColumns
    }

    var header: [UInt8] { RecordFormats.csvHeader(columns) }
    var recordSeparator: [UInt8] { [] }
    var recordTerminator: [UInt8] { [0x0D, 0x0A] }
    var footer: [UInt8] { [] }
    var writesRecordText: Bool { false }

    func appendRecord(_ root: Int, in view: JSONView, to out: inout [UInt8]) throws(OutputRecordError) {
        for (c, column) in compiled.enumerated() {
            if c > 0 { out.append(UInt8(ascii: ",")) }
            do {
                RecordFormats.appendCSVField(RecordFormats.text(of: try column.evaluate(record: root, in: view), in: view), to: &out)
            } catch {
                throw OutputRecordError(kind: .transform, message: error.message)
            }
        }
    }
}
