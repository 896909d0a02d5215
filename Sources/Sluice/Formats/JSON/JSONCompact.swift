/// Appends valid JSON `text` on one line: without surrounding whitespace, and — when it
/// spans lines (a pretty-printed element of a JSON array) — without any whitespace
/// outside strings. Single-line text is copied byte for byte.
package func appendCompact(_ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
    var start = 0
    var end = text.count
    while start < end, isJSONWhitespace(text[start]) { start += 1 }
    while end > start, isJSONWhitespace(text[end - 1]) { end -= 1 }
    let body = UnsafeBufferPointer(rebasing: text[start..<end])
    var spansLines = false
    for byte in body where byte == 0x0A || byte == 0x0D {
        spansLines = true
        break
    }
    guard spansLines else {
        out.append(contentsOf: body)
        return
    }
    var inString = false
    var escaped = false
    for byte in body {
        if inString {
            out.append(byte)
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
        } else if !isJSONWhitespace(byte) {
            out.append(byte)
            if byte == UInt8(ascii: "\"") { inString = true }
        }
    }
}

@inline(__always)
func isJSONWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
}
