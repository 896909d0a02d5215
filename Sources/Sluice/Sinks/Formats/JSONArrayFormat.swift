/// `format: json`: one JSON array per file, one element per line (`[]` when empty).
struct JSONArrayFormat: RowFormat {
    var header: [UInt8] { Array("[".utf8) }
    var recordSeparator: [UInt8] { Array(",\n".utf8) }
    var recordTerminator: [UInt8] { [] }
    var footer: [UInt8] { Array("]\n".utf8) }
    var writesRecordText: Bool { true }
}
