import Testing
@testable import SluiceStages

@Suite struct OutputBytesTests {
    /// Appends of every size up to 40 (the inline 1–3, 4–7, 8–16 byte copies and memcpy),
    /// from the end of their source buffers, across growth from a small capacity.
    @Test func appendsOfEverySizeKeepEveryByte() {
        var out = OutputBytes(capacity: 1)
        var expected: [UInt8] = []
        for size in 0...40 {
            let piece = (0..<size).map { UInt8(truncatingIfNeeded: size &* 31 &+ $0) }
            piece.withUnsafeBufferPointer { out.append($0) }
            expected += piece
            out.append(UInt8(ascii: ","))
            expected.append(UInt8(ascii: ","))
        }
        out.append(decimal: -1234567890123)
        expected += Array("-1234567890123".utf8)
        #expect(out.count == expected.count)
        #expect(out.takeArray() == expected)
    }
}
