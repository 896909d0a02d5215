/// `format: json`: one JSON array per file, one element per line (`[]` when empty).
struct JSONArrayFormat: RowFormat {
    let header: [UInt8] = Array("[".utf8)
    let recordSeparator: [UInt8] = Array(",\n".utf8)
    let recordTerminator: [UInt8] = []
    let footer: [UInt8] = Array("]\n".utf8)
    let writesRecordText = true
}
