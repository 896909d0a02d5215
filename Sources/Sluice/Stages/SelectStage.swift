/// Replaces each record with a new object made of the configured fields, in config order.
///
/// Each output field is a field path or an expression over the input record:
/// - a value taken unchanged from the record (a path such as `customer.id`, or any
///   expression whose result is a number, string, array or object of the record) is
///   copied as its exact source bytes, so `12345678901234567890`, `1e400` and string
///   escapes pass through byte for byte;
/// - a computed value is written as JSON (ints as integers, doubles in shortest form
///   with a fraction, e.g. `3.0`);
/// - a missing field is written as `null` (the key is always present, so every output
///   record has the same keys in the same order).
///
/// An evaluation error (e.g. `round(total * 100)` on a record without `total`) fails the
/// record with kind `transform`; the error report shows the input record.
///
/// ```yaml
/// - name: shape
///   select:
///     id: id
///     customer_id: customer.id
///     item_count: 'len(items)'
///     total_cents: 'round(total * 100)'
/// ```
public struct SelectStage: Stage {
    /// Configuration of `select`.
    public struct Config: Sendable, Equatable {
        /// The output fields, in output order.
        public var fields: [Field]

        public init(fields: [Field]) {
            self.fields = fields
        }
    }

    /// One output field: its key and how to compute its value.
    public struct Field: Sendable, Equatable {
        /// The key in the output record.
        public var key: String
        /// A field path of the input record (`customer.id`) or an expression
        /// (`round(total * 100)`).
        public var expression: String

        public init(key: String, expression: String) {
            self.key = key
            self.expression = expression
        }
    }

    public static let kind = "select"

    struct CompiledField: Sendable {
        let key: [UInt8]
        let expression: CompiledExpression
    }

    let fields: [CompiledField]

    /// Builds the stage, compiling every field's expression.
    ///
    /// - Throws: ``StageConfigError`` listing every expression that does not compile
    ///   (key path `["select", key]`, with its column), duplicate keys, or no fields.
    public static func make(config: Config) throws(StageConfigError) -> SelectStage {
        var problems: [StageConfigProblem] = []
        var fields: [CompiledField] = []
        var seen = Set<String>()
        for field in config.fields {
            if !seen.insert(field.key).inserted {
                problems.append(StageConfigProblem(keyPath: [kind, field.key], message: "duplicate output key '\(field.key)'"))
            }
            do {
                fields.append(CompiledField(key: Array(field.key.utf8), expression: try CompiledExpression(field.expression)))
            } catch {
                problems.append(StageConfigProblem(keyPath: [kind, field.key], error))
            }
        }
        if config.fields.isEmpty {
            problems.append(StageConfigProblem(keyPath: [kind], message: "select needs at least one output field"))
        }
        guard problems.isEmpty else { throw StageConfigError(problems: problems) }
        return SelectStage(fields: fields)
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        let snapshot = Batch(file: batch.file, index: batch.index, bytes: batch.bytes, tape: batch.tape)
        var writer = JSONWriter(capacity: batch.bytes.count)
        var slots: [RecordSlot] = []
        slots.reserveCapacity(batch.records.count)
        // Values of one record, evaluated before any is written so a failing record
        // leaves no partial output; reused across records.
        var values = [ExpressionValue](repeating: .null, count: fields.count)
        snapshot.withView { view in
            for slot in batch.records {
                let root = Int(slot.tapeStart)
                guard root >= 0 else {
                    batch.errors.append(context.recordError(.transform, "record was not indexed before the select stage", batch: snapshot, slot: slot))
                    continue
                }
                do throws(EvaluationError) {
                    for (k, field) in fields.enumerated() {
                        values[k] = try field.expression.evaluate(record: root, in: view)
                    }
                } catch {
                    batch.errors.append(context.recordError(.transform, error.message, batch: snapshot, slot: slot))
                    continue
                }
                let start = writer.bytes.count
                writer.beginObject()
                for (k, field) in fields.enumerated() {
                    field.key.withUnsafeBufferPointer { writer.key(utf8: $0) }
                    SelectStage.write(values[k], view: view, to: &writer)
                }
                writer.endObject()
                let end = writer.bytes.count
                writer.endRecord()
                slots.append(RecordSlot(start: start, end: end, line: slot.line, offset: slot.offset))
            }
        }
        batch.bytes = writer.bytes
        batch.records = slots
        batch.tape.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    static func write(_ value: ExpressionValue, view: JSONView, to writer: inout JSONWriter) {
        switch value {
        case .null: writer.writeNull()
        case .bool(let b): writer.write(b)
        case .int(let i): writer.write(i)
        case .double(let d): writer.write(d)
        case .node(let i): writer.writeRaw(view.rawBytes(i))
        case .string(let s): s.withUnsafeBufferPointer { writer.writeString(utf8: $0) }
        }
    }
}
