import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `pipelines/orders-xml.yaml` over `fixtures/orders-xml` (the orders of
/// `fixtures/orders` as XML, see `fixtures/make_orders_xml.py`) keeps the same orders as
/// `pipelines/orders.yaml` and gives the same fields, as strings, without `total_cents`.
@Suite struct XMLPipelineEquivalenceTests {
    static func outputRecords(_ name: String) throws -> [[String: Any]] {
        let root = TestSupport.packageRoot
        let config = try PipelineConfig.load(path: root.appendingPathComponent("pipelines/\(name).yaml").path)
        let out = TestSupport.temporaryDirectory("sluice-xml-equivalence")
        defer { TestSupport.cleanup(out) }
        let summary = TestSupport.run(config, input: URL(fileURLWithPath: config.input.path), output: out)
        let url = try #require(summary.outputs.first.map { URL(fileURLWithPath: $0) })
        let bytes = try TestSupport.gunzip(url)
        return try String(decoding: bytes, as: UTF8.self).split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func xmlOrdersMatchJSONOrders() throws {
        let json = try Self.outputRecords("orders")
        let xml = try Self.outputRecords("orders-xml")
        #expect(xml.count == json.count)
        for (x, j) in zip(xml, json) {
            #expect(x["id"] as? String == (j["id"] as? Int).map(String.init))
            for key in ["ts", "customer_id", "country"] {
                #expect(x[key] as? String == j[key] as? String, "\(key) of \(x["id"] ?? "")")
            }
            #expect((x["total"] as? String).flatMap(Double.init) == (j["total"] as? NSNumber)?.doubleValue)
            #expect(x["item_count"] as? Int == j["item_count"] as? Int)
            #expect(Set(x.keys) == Set(j.keys).subtracting(["total_cents"]))
        }
    }
}
