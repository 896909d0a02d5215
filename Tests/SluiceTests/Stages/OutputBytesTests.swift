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

    /// Integers of every digit count and sign, the extremes, each as `String(_:)` writes it.
    @Test func decimalsOfEveryLength() {
        var values: [Int64] = [0, -1, 1, 9, 10, -10, 99, 100, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -(power - 1), -power, -(power + 1)]
        }
        var out = OutputBytes(capacity: 1)
        var expected: [UInt8] = []
        for value in values {
            out.append(decimal: value)
            out.append(UInt8(ascii: " "))
            expected += Array("\(value) ".utf8)
        }
        #expect(out.takeArray() == expected)
    }

    /// Padded appends copy whole 16-byte blocks but keep only `count` bytes.
    @Test func paddedAppendsKeepOnlyTheirCount() {
        var out = OutputBytes(capacity: 1)
        var expected: [UInt8] = []
        for size in 1...40 {
            let room = (size + 15) & ~15
            let padded = (0..<room).map { $0 < size ? UInt8(truncatingIfNeeded: size &+ $0) : 0xEE }
            out.reserve(room)
            padded.withUnsafeBufferPointer { out.appendPadded($0.baseAddress!, count: size) }
            expected += padded[0..<size]
        }
        out.append(UInt8(ascii: "."))
        expected.append(UInt8(ascii: "."))
        #expect(out.takeArray() == expected)
    }
}
