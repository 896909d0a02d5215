import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Groups the randomized robustness tests (`swift test --filter Robustness`).
///
/// Every suite draws its cases from a ``SplitMix64`` with a fixed seed, so a failure
/// reproduces exactly; a failing case prints its seed and index. Case counts are small
/// enough for a debug build to finish each suite in a few seconds; `sluice-bench fuzz`
/// runs the same kind of mutations for longer.
@Suite enum RobustnessTests {}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (modulo: the tests need the same sequence, not uniformity).
    mutating func next(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

extension SplitMix64 {
    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }
}

/// Byte-level damage, the kind a disk, a network or a careless producer does.
enum Mutator {
    /// Interesting bytes to insert: structure, quotes, escapes, UTF-8 lead bytes, controls.
    static let specialBytes: [UInt8] = Array("{}[]\",:\\/ \n\r\t0-+.eEtfnu".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF]

    /// Applies one to three random mutations to `input`.
    static func mutate(_ input: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<rng.int(1...3) {
            mutateOnce(&bytes, using: &rng)
        }
        return bytes
    }

    static func mutateOnce(_ bytes: inout [UInt8], using rng: inout SplitMix64) {
        let position = rng.int(0...bytes.count)
        switch rng.int(0..<9) {
        case 0 where !bytes.isEmpty:  // flip one bit
            let i = rng.int(0..<bytes.count)
            bytes[i] ^= UInt8(1) << UInt8(rng.int(0..<8))
        case 1:  // truncate
            bytes.removeSubrange(position...)
        case 2:  // insert a special byte
            bytes.insert(rng.pick(specialBytes), at: position)
        case 3 where !bytes.isEmpty:  // delete a run
            let i = rng.int(0..<bytes.count)
            bytes.removeSubrange(i..<min(bytes.count, i + rng.int(1...4)))
        case 4:  // insert random bytes
            bytes.insert(contentsOf: rng.bytes(rng.int(1...6)), at: position)
        case 5 where !bytes.isEmpty:  // duplicate a slice
            let i = rng.int(0..<bytes.count)
            let slice = bytes[i..<min(bytes.count, i + rng.int(1...16))]
            bytes.insert(contentsOf: slice, at: rng.int(0...bytes.count))
        case 6 where !bytes.isEmpty:  // replace a byte with a special one
            bytes[rng.int(0..<bytes.count)] = rng.pick(specialBytes)
        case 7:  // insert a piece of JSON text
            let pieces = [#"\ud800"#, #"\udc00"#, #"\ud83d\ude00"#, #"\u00"#, "1e99999", "-0.0e-0", "123456789012345678901234567890",
                          "[[[[", "]]", "{\"k\":", "null", "tru", "\u{FEFF}", "\u{1F600}", "\r\n"]
            bytes.insert(contentsOf: Array(rng.pick(pieces).utf8), at: position)
        default:  // swap two bytes
            guard bytes.count >= 2 else { return }
            bytes.swapAt(rng.int(0..<bytes.count), rng.int(0..<bytes.count))
        }
    }
}

/// Realistic, valid order records as JSON text.
enum SampleRecords {
    static let orders: [String] = [
        #"{"id":1,"status":"shipped","total":12.5,"customer":{"id":"C1","country":"DE"},"items":[{"sku":"A","qty":2},{"sku":"B","qty":1}]}"#,
        #"{"id":2,"status":"cancelled","total":0,"note":"caf\u00e9 \"x\" \\ \/ \b\f\n\r\t","tags":[]}"#,
        #"{"id":3,"status":"paid","total":-1.25e3,"big":123456789012345678901234567890,"huge":1e400,"flag":true,"n":null,"emoji":"😀"}"#,
        #"{"id":4,"nested":{"a":[[1,[2,[3,{"b":{}}]]]]},"s":"\ud83d\ude00","empty":"","zero":-0}"#,
        #"  {"id":5 , "spaced" : [ 1 , 2 ] , "text":"h\u00e9llo wörld"}  "#,
    ]

    /// A random valid record: one of the samples or a generated one.
    static func record(using rng: inout SplitMix64) -> String {
        if rng.chance(0.5) { return orders[rng.int(0..<orders.count)] }
        var text = "{\"id\":\(rng.int(0..<1_000_000))"
        for k in 0..<rng.int(0...5) {
            text += ",\"k\(k)\":" + value(depth: 0, using: &rng)
        }
        return text + "}"
    }

    static func value(depth: Int, using rng: inout SplitMix64) -> String {
        switch rng.int(0..<(depth > 3 ? 5 : 7)) {
        case 0: return "\(rng.int(-1_000_000...1_000_000))"
        case 1: return rng.pick(["0.5", "-3.25e-7", "1E+2", "9007199254740993", "-9223372036854775808"])
        case 2: return rng.pick(["true", "false", "null"])
        case 3: return "\"" + rng.pick(["plain", "caf\\u00e9", "tab\\t", "ünï", "😀", "", "q\\\"q"]) + "\""
        case 4: return "\"\(String(repeating: "x", count: rng.int(0...40)))\""
        case 5: return "[" + (0..<rng.int(0...3)).map { _ in value(depth: depth + 1, using: &rng) }.joined(separator: ",") + "]"
        default: return "{" + (0..<rng.int(0...3)).map { "\"m\($0)\":" + value(depth: depth + 1, using: &rng) }.joined(separator: ",") + "}"
        }
    }
}
