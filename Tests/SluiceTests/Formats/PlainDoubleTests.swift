import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct PlainDoubleTests {
    /// The one-loop path for plain decimals and the general path give the correctly
    /// rounded value, on both sides of every bound of the plain path (19 digits, 2^53,
    /// 22 fraction digits, an exponent).
    @Test(arguments: [
        "0.1", "-0.0", "0.0", "-2.5", "123.45", "1234.56", "0.005", "2.675", "1.005",
        "9007199254740992.0", "9007199254740993.0", "90071992547409.93", "1234567890123456789.0",
        "12345678901234567890.5", "0.1234567890123456789", "0.0000000000000000000001",
        "0.00000000000000000000001", "1.5e3", "-1e-5", "17976931348623157.0e292", "0.0000000000000000000000001",
        "4.35", "1000000.000001", "0.00000000000000000015", "100000000000000000.5",
    ])
    func sameAsTheCLibrary(_ text: String) throws {
        try withRoot(#"{"n":\#(text)}"#) { view, root in
            let node = try #require(view.member(of: root, key: "n"))
            let value = try #require(view.number(node))
            let expected = try #require(Double(text))
            #expect(value.doubleValue.bitPattern == expected.bitPattern, "\(text)")
        }
    }
}
