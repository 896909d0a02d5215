import SluiceCore
import SluiceStages

/// `format: csv`: an RFC 4180 header row (each column's `name`, else its expression's
/// text), then one
/// CRLF-terminated row per record; a column whose expression fails fails the record
/// (kind `transform`).
struct CSVFormat: RowFormat {
    let columns: [String]
    let compiled: [CompiledExpression]

    init(spec: OutputSpec) {
        columns = spec.columns
        compiled = spec.compiledColumns
        header = RecordFormats.csvHeader(spec.columnNames.count == spec.columns.count ? spec.columnNames : spec.columns)
    }

    let header: [UInt8]
    let recordSeparator: [UInt8] = []
    let recordTerminator: [UInt8] = [0x0D, 0x0A]
    let footer: [UInt8] = []
    let writesRecordText = false

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
