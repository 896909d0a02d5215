import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Regressions found in review: each case once trapped, lost a value silently or read
/// the wrong instant.
@Suite struct ExpressionReviewTests {
    static let record = #"{"huge":1e400,"neg":-1e400,"epoch":"99999999999999999999","epoch19":"9999999999999999999","d366":"2026-366","d366leap":"2028-366","big":"9223372036854775808"}"#

    static let cases: [(String, String)] = [
        // `%s` with more digits than an Int holds used to trap on overflow.
        (#"parse_time(epoch, "%s")"#, #"error: parse_time() cannot read "99999999999999999999" as a time in 'parse_time(epoch, "%s")'"#),
        (#"parse_time(epoch19, "%s")"#, #"error: parse_time() cannot read "9999999999999999999" as a time in 'parse_time(epoch19, "%s")'"#),
        (#"parse_time("-1700000000", "%s")"#, "-1700000000"),
        // Day 366 of a year that has 365 is not January 1st of the next one.
        (#"parse_time(d366, "%Y-%j")"#, #"error: parse_time() cannot read "2026-366" as a time in 'parse_time(d366, "%Y-%j")'"#),
        (#"parse_time(d366leap, "%Y-%j")"#, "1861833600"),
        // Milliseconds that round up to a whole second carry into the seconds.
        ("format_time(1793615400.9996)", #""2026-11-02T10:30:01Z""#),
        ("format_time(-0.0004)", #""1970-01-01T00:00:00Z""#),
        ("format_time(59.9999)", #""1970-01-01T00:01:00Z""#),
        ("format_time(0.0005)", #""1970-01-01T00:00:00.001Z""#),
        // A field beyond the double range is an error, not a silent null.
        ("float(huge)", "error: float() number out of range in 'float(huge)'"),
        ("abs(neg)", "error: abs() number out of range in 'abs(neg)'"),
        ("float(1.5)", "1.5"),
    ]

    @Test(arguments: cases) func evaluates(source: String, expected: String) throws {
        #expect(try evaluate(source, on: Self.record) == expected, "\(source)")
    }
}
