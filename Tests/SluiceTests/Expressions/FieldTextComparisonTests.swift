import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `field == "text"` and `field != "text"` take a direct path (`CompareNode`'s field and
/// literal bytes); it must give what the general equality gives on every kind of field (checked
/// against the build before the direct path: `sluice eval`, same answers).
@Suite struct FieldTextComparisonTests {
    static let record = #"{"s":"paid","e":"pa\u0069d","n":null,"b":true,"x":1,"a":["paid"],"o":{"s":"paid"},"empty":"","u":"café"}"#

    @Test(arguments: [
        ("s == \"paid\"", "true"), ("\"paid\" == s", "true"), ("s != \"paid\"", "false"), ("\"paid\" != s", "false"),
        ("s == \"pai\"", "false"), ("s == \"paid \"", "false"), ("s != \"x\"", "true"),
        ("e == \"paid\"", "true"), ("e != \"paid\"", "false"),                       // an escaped field
        ("missing == \"paid\"", "false"), ("missing != \"paid\"", "true"),
        ("n == \"null\"", "false"), ("b == \"true\"", "false"), ("x == \"1\"", "false"),
        ("a == \"paid\"", "false"), ("o == \"paid\"", "false"), ("o.s == \"paid\"", "true"),
        ("empty == \"\"", "true"), ("s == \"\"", "false"), ("missing != \"\"", "true"),
        ("u == \"caf\\u00e9\"", "true"), ("a[0] == \"paid\"", "true"), ("a[*] == \"paid\"", "false"),
    ])
    func agreesWithGeneralEquality(_ source: String, _ expected: String) throws {
        #expect(try evaluate(source, on: Self.record) == expected)
    }
}
