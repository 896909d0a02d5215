import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct JSONWriterTests {
    func text(_ build: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        build(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func stringEscaping() {
        #expect(text { $0.write("plain ascii text, long enough for words") } == #""plain ascii text, long enough for words""#)
        #expect(text { $0.write("q\"b\\s/") } == #""q\"b\\s/""#)
        #expect(text { $0.write("\u{8}\u{C}\n\r\t") } == #""\b\f\n\r\t""#)
        #expect(text { $0.write("\u{0}\u{1}\u{1F}\u{7F}") } == "\"\\u0000\\u0001\\u001f\u{7F}\"")
        #expect(text { $0.write("héllo 😀 ünïcödé and more text\n") } == "\"héllo 😀 ünïcödé and more text\\n\"")
        #expect(text { $0.write("") } == #""""#)
        // An escape right after an eight-byte block, and at the very end.
        #expect(text { $0.write("12345678\"abcdefgh\\") } == #""12345678\"abcdefgh\\""#)
    }

    @Test func lossyStringReplacesBadUTF8() {
        #expect(text { $0.writeLossyString([0x61, 0xFF, 0x62]) } == "\"a\u{FFFD}b\"")
        #expect(text { $0.writeLossyString([0x22, 0xC3, 0x0A]) } == "\"\\\"\u{FFFD}\\n\"")
        #expect(text { $0.writeLossyString([0xE2, 0x82]) } == "\"\u{FFFD}\"")
        #expect(text { $0.writeLossyString(Array("ok é".utf8)) } == "\"ok é\"")
    }

    @Test func numbers() {
        #expect(text { $0.write(Int64.min) } == "-9223372036854775808")
        #expect(text { $0.write(Int64.max) } == "9223372036854775807")
        #expect(text { $0.write(0 as Int) } == "0")
        #expect(text { $0.write(0.1) } == "0.1")
        #expect(text { $0.write(3.0) } == "3.0")
        #expect(text { $0.write(-0.0) } == "-0.0")
        #expect(text { $0.write(1e300) } == "1e+300")
        #expect(text { $0.write(1e-7) } == "1e-07")
        #expect(text { $0.write(Double.nan) } == "null")
        #expect(text { $0.write(-Double.infinity) } == "null")
    }

    @Test func doublesRoundTripThroughTheParser() throws {
        for value in [0.1, 1.0 / 3, .leastNonzeroMagnitude, 1.7976931348623157e308, 123456.789, -2.5e-10, 1e22, 1e23] {
            let written = text { $0.write(value) }
            #expect(syntaxError(Array(written.utf8)) == nil, "\(written)")
            try withRoot(written) { view, root in #expect(view.number(root) == .double(value), "\(written)") }
        }
    }

    @Test func containersPlaceCommas() {
        let out = text { w in
            w.beginObject()
            w.key("a"); w.write(1 as Int64)
            w.key("b"); w.beginArray(); w.write(true); w.writeNull(); w.beginObject(); w.endObject(); w.beginArray(); w.endArray(); w.write("x"); w.endArray()
            w.key("c"); w.writeRaw(Array("1e400".utf8))
            w.endObject()
            w.endRecord()
            w.beginArray(); w.endArray()
            w.endRecord()
        }
        #expect(out == "{\"a\":1,\"b\":[true,null,{},[],\"x\"],\"c\":1e400}\n[]\n")
    }

    @Test func writesValues() throws {
        let value = JSONValue.object([
            JSONMember("k\"", .array([.int(-1), .double(2.5), .string("é\n"), .bool(false), .null, .raw(Array("123456789012345678901234567890".utf8))])),
            JSONMember("o", .object([])),
        ])
        let out = text { $0.write(value) }
        #expect(out == #"{"k\"":[-1,2.5,"é\n",false,null,123456789012345678901234567890],"o":{}}"#)
        try withRoot(out) { view, root in #expect(view.materialize(root) == value) }
    }
}
