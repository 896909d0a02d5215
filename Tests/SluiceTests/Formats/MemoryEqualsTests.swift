import Testing
@testable import SluiceCore

@Suite struct MemoryEqualsTests {
    /// Every length up to 40 (the word, overlapping-word and byte paths), a difference at
    /// every position.
    @Test func everyLengthAndEveryPosition() {
        for count in 0...40 {
            let a = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            a.withUnsafeBufferPointer { x in
                var b = a
                b.withUnsafeBufferPointer { y in
                    #expect(count == 0 || memoryEquals(x.baseAddress!, y.baseAddress!, count), "length \(count)")
                }
                for position in 0..<count {
                    b[position] ^= 0x40
                    b.withUnsafeBufferPointer { y in
                        #expect(!memoryEquals(x.baseAddress!, y.baseAddress!, count), "length \(count), byte \(position)")
                    }
                    b[position] ^= 0x40
                }
            }
        }
    }
}
