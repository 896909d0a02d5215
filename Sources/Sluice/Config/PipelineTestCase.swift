import Foundation
import Yams
import SluiceCore
import SluiceStages

/// One test case of a pipeline (`tests:` in the config, or a sibling `NAME.tests.yaml`
/// holding a `tests:` list): records in, the records and error lines expected out.
///
/// ```yaml
/// tests:
///   - name: drops cancelled orders
///     input:                                   # inline records: YAML mappings or JSON text
///       - { id: 1, status: paid, total: 2.5, items: [] }
///       - '{"id": 2, "status": "cancelled", "total": 1}'
///     output:
///       - { id: 1, total_cents: 250 }
///     errors:                                  # in report order; fields given must match
///       - { stage: check, kind: validation, message: "missing required field 'total'" }
///   - name: the fixture file
///     input_file: ../fixtures/orders/2026-11-03.ndjson   # relative to the config file
///     output_count: 5
/// ```
public struct PipelineTestCase: Sendable, Equatable {
    public var name: String
    /// Inline input records as JSON text, one per record.
    public var input: [String]
    /// A file to read instead (relative to the config file), any format the input reads.
    public var inputFile: String?
    /// Expected output records, in order (nil: not checked).
    public var output: [JSONValue]?
    /// Expected number of output records (nil: not checked).
    public var outputCount: Int?
    /// Expected error lines, in report order (nil: not checked; [] means none).
    public var errors: [ExpectedError]?

    public struct ExpectedError: Sendable, Equatable {
        public var stage: String?
        public var kind: String?
        /// Must equal the error's message exactly.
        public var message: String?
        public var line: Int?
    }

    static let keys = ConfigSchema.names(ConfigSchema.testCase)
    static let errorKeys = ConfigSchema.names(ConfigSchema.TestCase.expectedError)

    /// Reads a `tests:` list.
    static func parseList(_ node: ConfigNode) -> [PipelineTestCase] {
        guard let items = node.sequence() else { return [] }
        return items.enumerated().compactMap { parse($1, index: $0) }
    }

    private static func parse(_ node: ConfigNode, index: Int) -> PipelineTestCase? {
        guard let map = node.mapping(allowed: keys) else { return nil }
        let name = map["name"]?.string() ?? "test \(index + 1)"
        var input: [String] = []
        if let list = map["input"]?.sequence() {
            for item in list {
                if case .scalar = item.node, let text = item.string() {
                    input.append(text)
                } else {
                    input.append(String(decoding: jsonText(item.node), as: UTF8.self))
                }
            }
        }
        let inputFile = map["input_file"]?.string()
        if map["input"] == nil && inputFile == nil { node.report("a test needs 'input' or 'input_file'") }
        let output = map["output"]?.sequence().map { $0.map { jsonValue($0.node) } }
        let outputCount = map.read(ConfigSchema.TestCase.outputCount) ?? nil
        var errors: [ExpectedError]?
        if let list = map["errors"], !list.isNull {
            errors = list.sequence()?.compactMap { item in
                guard let e = item.mapping(allowed: errorKeys) else { return nil }
                let keys = ConfigSchema.TestCase.self
                return ExpectedError(stage: e.read(keys.errorStage) ?? nil, kind: (e.read(keys.errorKind) ?? nil)?.rawValue,
                                     message: e.read(keys.errorMessage) ?? nil, line: e.read(keys.errorLine) ?? nil)
            }
        } else if map["errors"] != nil {
            errors = []
        }
        return PipelineTestCase(name: name, input: input, inputFile: inputFile, output: output, outputCount: outputCount, errors: errors)
    }

    /// A YAML value as a JSON value: YAML's own typing (`1` int, `1.5` float, `true`, `null`, the rest strings).
    static func jsonValue(_ node: Yams.Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted || scalar.style == .literal || scalar.style == .folded {
                return .string(scalar.string)
            }
            if node.null != nil { return .null }
            if let bool = node.bool { return .bool(bool) }
            if let int = Int64(scalar.string) { return .int(int) }
            if let double = node.float, scalar.string.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .double(double) }
            return .string(scalar.string)
        case .mapping(let mapping):
            return .object(mapping.map { JSONMember($0.key.scalar?.string ?? "", jsonValue($0.value)) })
        case .sequence(let sequence):
            return .array(sequence.map(jsonValue))
        case .alias:
            return .null
        }
    }

    static func jsonText(_ node: Yams.Node) -> [UInt8] {
        var writer = JSONWriter()
        writer.write(jsonValue(node))
        return writer.bytes
    }
}
