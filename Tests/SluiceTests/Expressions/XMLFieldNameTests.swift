import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// XML records have keys like `@id`, `#text` and `mml:math`; field paths take them as written.
@Suite struct XMLFieldNameTests {
    @Test func pathsAcceptAtHashAndColonInNames() throws {
        #expect(try CompiledExpression("customer.@id").fieldPath == FieldPath(steps: [.key(Array("customer".utf8)), .key(Array("@id".utf8))]))
        #expect(try CompiledExpression("total.#text").fieldPath == FieldPath(steps: [.key(Array("total".utf8)), .key(Array("#text".utf8))]))
        #expect(try CompiledExpression("m:math").fieldPath == FieldPath(steps: [.key(Array("m:math".utf8))]))
    }

    @Test func expressionsOverXMLKeys() throws {
        let record = ##"{"@id":"7","total":{"@currency":"EUR","#text":"3.50"},"items":{"item":[{"@sku":"A"},{"@sku":"B"}]}}"##
        #expect(try evaluate("@id", on: record) == #""7""#)
        #expect(try evaluate("total.#text == \"3.50\" && total.@currency != \"USD\"", on: record) == "true")
        #expect(try evaluate("len(items.item)", on: record) == "2")
        #expect(try evaluate("items.item[-1].@sku", on: record) == #""B""#)
    }
}
