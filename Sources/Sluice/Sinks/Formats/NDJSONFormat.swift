/// `format: ndjson`: one compact JSON object per line.
struct NDJSONFormat: RowFormat {
    let header: [UInt8] = []
    let recordSeparator: [UInt8] = []
    let recordTerminator: [UInt8] = [UInt8(ascii: "\n")]
    let footer: [UInt8] = []
    let writesRecordText = true
}
