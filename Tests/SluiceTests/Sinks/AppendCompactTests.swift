import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `appendCompact` copies one-line text as it is and strips whitespace outside strings
/// from text that spans lines (an LF or a CR anywhere).
@Suite struct AppendCompactTests {
    @Test(arguments: [
        (" {\"a\": 1, \"b\": \"x y\"} \r", "{\"a\": 1, \"b\": \"x y\"}"),
        ("{\"a\":\r1,\"b\":\"\\\" \\\\ \"}", "{\"a\":1,\"b\":\"\\\" \\\\ \"}"),
        ("[\n  1,\n  \"a\\nb c\"\n]\n", "[1,\"a\\nb c\"]"),
        (String(repeating: "x", count: 100), String(repeating: "x", count: 100)),
        ("   ", ""),
    ])
    func compacts(_ text: String, _ expected: String) {
        var out: [UInt8] = Array(">".utf8)
        Array(text.utf8).withUnsafeBufferPointer { appendCompact($0, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == ">" + expected)
    }
}
