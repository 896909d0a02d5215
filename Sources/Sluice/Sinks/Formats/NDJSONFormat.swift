/// `format: ndjson`: one compact JSON object per line.
struct NDJSONFormat: RowFormat {
    var header: [UInt8] { [] }
    var recordSeparator: [UInt8] { [] }
    var recordTerminator: [UInt8] { [UInt8(ascii: "\n")] }
    var footer: [UInt8] { [] }
    var writesRecordText: Bool { true }
}
