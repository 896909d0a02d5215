import SluiceCore

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
    private let program: Program
    /// The field paths of every output field's expression, resolved in one pass per record.
    let fieldSet: FieldSet

    init(fields: [CompiledField], fieldSet: FieldSet = FieldSetBuilder().build()) {
        self.fields = fields
        self.fieldSet = fieldSet
        program = Program(fields)
    }

    /// The fields laid out for the record loop: iterating `fields` retains and releases
    /// each key and node per record (measured: a third of select's time), so the loop
    /// reads unowned node references and one key buffer instead. `fields` keeps the
    /// nodes alive; the buffers are immutable after init and freed with the object.
    private final class Program: @unchecked Sendable {
        let count: Int
        let nodes: UnsafeMutableBufferPointer<Unmanaged<Node>>
        /// Per field, its node when the expression is a plain field path (`customer.id`):
        /// looked up directly, without the virtual call and the error plumbing.
        let paths: UnsafeMutableBufferPointer<Unmanaged<PathNode>?>
        let keys: UnsafeMutableBufferPointer<UInt8>
        let keyRanges: UnsafeMutableBufferPointer<Range<Int>>
        /// Per field, the JSON text written before its value: `{"key":` for the first,
        /// `,"key":` for the others (escaped once here instead of per record).
        let prefixes: UnsafeMutableBufferPointer<UInt8>
        let prefixRanges: UnsafeMutableBufferPointer<Range<Int>>

        /// One field as the record loop runs it.
        struct Op {
            /// The field's slot in the stage's ``FieldSet`` when its expression is a plain
            /// path of keys (`customer.id`): the value is then the resolved node's source
            /// bytes whatever its kind (`null`, `true` and `false` are their own text), or
            /// `null` when missing — what evaluating the path and writing its value gives.
            /// -1: the expression is evaluated.
            var slot: Int
            /// The prefix's place in `paddedPrefixes` and its length; it has room for whole
            /// 16-byte copies (``OutputBytes/appendPadded(_:count:)``).
            var prefixStart: Int
            var prefixLength: Int
            /// `prefixLength` rounded up to 16: the room its copy needs.
            var prefixRoom: Int
            /// For `len(path)` with a slot: that slot. An array or object node there is
            /// counted in the loop; anything else (a string, null, missing) is evaluated.
            var lengthSlot: Int
            /// For `round(path * 10^k)` with a slot: that slot, and `k` in `roundPower`. A
            /// number literal there that ``ScaledRound`` takes is written from its text;
            /// anything else (a string, missing, an exponent, more digits) is evaluated.
            var roundSlot: Int
            var roundPower: Int
        }

        let ops: UnsafeMutableBufferPointer<Op>
        let paddedPrefixes: UnsafeMutableBufferPointer<UInt8>

        init(_ fields: [CompiledField]) {
            count = fields.count
            nodes = .allocate(capacity: max(count, 1))
            paths = .allocate(capacity: max(count, 1))
            keyRanges = .allocate(capacity: max(count, 1))
            let keyBytes = fields.flatMap(\.key)
            keys = .allocate(capacity: max(keyBytes.count, 1))
            _ = keys.initialize(from: keyBytes)
            var offset = 0
            for (k, field) in fields.enumerated() {
                nodes[k] = Unmanaged.passUnretained(field.expression.root)
                if let path = field.expression.root as? PathNode, !path.isWildcard {
                    paths[k] = Unmanaged.passUnretained(path)
                } else {
                    paths[k] = nil
                }
                keyRanges[k] = offset..<(offset + field.key.count)
                offset += field.key.count
            }
            var prefixBytes: [UInt8] = []
            prefixRanges = .allocate(capacity: max(count, 1))
            for (k, field) in fields.enumerated() {
                var writer = JSONWriter()
                field.key.withUnsafeBufferPointer { writer.key(utf8: $0) }
                let start = prefixBytes.count
                prefixBytes.append(k == 0 ? UInt8(ascii: "{") : UInt8(ascii: ","))
                prefixBytes.append(contentsOf: writer.bytes)
                prefixRanges[k] = start..<prefixBytes.count
            }
            prefixes = .allocate(capacity: max(prefixBytes.count, 1))
            _ = prefixes.initialize(from: prefixBytes)

            ops = .allocate(capacity: max(count, 1))
            var padded: [UInt8] = []
            for k in 0..<count {
                let range = prefixRanges[k]
                let room = (range.count + 15) & ~15
                var slot = -1
                if let path = paths[k] {
                    slot = path._withUnsafeGuaranteedRef { $0.lookup.slot }
                }
                let call = fields[k].expression.root as? CallNode
                let lengthSlot = call?.lengthOfPathSlot ?? -1
                let scaled = call?.scaledRoundOfPath
                ops[k] = Op(slot: slot, prefixStart: padded.count, prefixLength: range.count, prefixRoom: room, lengthSlot: lengthSlot,
                            roundSlot: scaled?.slot ?? -1, roundPower: scaled?.power ?? 0)
                padded.append(contentsOf: prefixBytes[range])
                padded.append(contentsOf: repeatElement(0, count: room - range.count))
            }
            paddedPrefixes = .allocate(capacity: max(padded.count, 16))
            paddedPrefixes.initialize(repeating: 0)
            _ = paddedPrefixes.initialize(from: padded)
        }

        deinit {
            nodes.deallocate()
            paths.deallocate()
            keys.deallocate()
            keyRanges.deallocate()
            prefixes.deallocate()
            prefixRanges.deallocate()
            ops.deallocate()
            paddedPrefixes.deallocate()
        }

        @inline(__always)
        func evaluate(_ k: Int, _ context: EvaluationContext) -> Result<ExpressionValue, EvaluationError> {
            if let path = paths[k] {
                return path._withUnsafeGuaranteedRef { path in
                    .success(path.resolve(context).map { PathNode.value(of: $0, context.view) } ?? .null)
                }
            }
            return nodes[k]._withUnsafeGuaranteedRef { node in
                do throws(EvaluationError) {
                    return .success(try node.evaluate(context))
                } catch {
                    return .failure(error)
                }
            }
        }

        @inline(__always)
        func key(_ k: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: keys[keyRanges[k]])
        }

        @inline(__always)
        func prefix(_ k: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: prefixes[prefixRanges[k]])
        }
    }

    /// Builds the stage, compiling every field's expression.
    ///
    /// - Throws: ``StageConfigError`` listing every expression that does not compile
    ///   (key path `["select", key]`, with its column), duplicate keys, or no fields.
    public static func make(config: Config) throws(StageConfigError) -> SelectStage {
        var problems: [StageConfigProblem] = []
        var fields: [CompiledField] = []
        var seen = Set<String>()
        let fieldSet = FieldSetBuilder()
        for field in config.fields {
            if !seen.insert(field.key).inserted {
                problems.append(StageConfigProblem(keyPath: [kind, field.key], message: "duplicate output key '\(field.key)'"))
            }
            do {
                fields.append(CompiledField(key: Array(field.key.utf8), expression: try CompiledExpression(field.expression, fields: fieldSet)))
            } catch {
                problems.append(StageConfigProblem(keyPath: [kind, field.key], error))
            }
        }
        if config.fields.isEmpty {
            problems.append(StageConfigProblem(keyPath: [kind], message: "select needs at least one output field"))
        }
        guard problems.isEmpty else { throw StageConfigError(problems: problems) }
        return SelectStage(fields: fields, fieldSet: fieldSet.build())
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        let snapshot = Batch(file: batch.file, index: batch.index, bytes: batch.bytes, tape: batch.tape)
        // For the rare values that are not copied bytes or integers.
        var writer = JSONWriter()
        let records = batch.records
        let program = self.program
        let fieldSet = self.fieldSet
        // The new text is written straight into the batch's next buffer, sized as the old
        // one (a select usually shortens records); only output that outgrows it is written
        // elsewhere and copied once (what every batch paid before: 1 % of the bench's
        // instructions in `memcpy`).
        var slots: [RecordSlot] = []
        var outgrown: [UInt8]?
        let written = [UInt8](unsafeUninitializedCapacity: batch.bytes.count + 64) { storage, initialized in
            var out = OutputBytes(writingInto: storage)
            slots = [RecordSlot](unsafeUninitializedCapacity: records.count) { kept, keptCount in
                keptCount = 0
                withUnsafeTemporaryAllocation(of: Int.self, capacity: max(fieldSet.bufferCount, 1)) { resolvedSlots in
                    let resolved = resolvedSlots.baseAddress!
                    fieldSet.prepare(resolved)
                    snapshot.withView { view in
                        let tape = view.tape
                        // No bytes means no nodes: a slot then never resolves and the pointer is never read.
                        let text = view.bytes.baseAddress ?? SelectStage.null.utf8Start
                        let byteCount = view.bytes.count
                        let ops = program.ops
                        let prefixes = UnsafePointer(program.paddedPrefixes.baseAddress!)
                        for slot in records {
                            let root = Int(slot.tapeStart)
                            guard root >= 0 else {
                                batch.errors.append(context.recordError(.transform, "record was not indexed before the select stage", batch: snapshot, slot: slot))
                                continue
                            }
                            fieldSet.resolve(in: view, root: root, into: resolved)
                            let evaluation = EvaluationContext(view: view, root: root, now: context.now, resolved: resolved)
                            // Each value is written as soon as it is evaluated; a record that fails
                            // takes its partial output back (no array of values to store, check
                            // for uniqueness and destroy per field).
                            let start = out.count
                            var failure: EvaluationError?
                            for k in 0..<ops.count {
                                let op = ops[k]
                                if op.slot >= 0 {
                                    // A plain path: one capacity check, the prefix, the value's bytes.
                                    let node = resolved[op.slot]
                                    let source: UnsafePointer<UInt8>
                                    let length: Int
                                    if node >= 0 {
                                        let entry = tape[node]
                                        source = text + Int(entry.start)
                                        length = Int(entry.end &- entry.start)
                                    } else {
                                        source = SelectStage.null.utf8Start
                                        length = 4
                                    }
                                    out.reserve(op.prefixRoom &+ length)
                                    out.appendPadded(prefixes + op.prefixStart, count: op.prefixLength)
                                    out.appendReserved(source, count: length)
                                    continue
                                }
                                if op.lengthSlot >= 0, resolved[op.lengthSlot] >= 0 {
                                    // `len(path)` of an array or object: its count, as evaluating gives.
                                    let entry = tape[resolved[op.lengthSlot]]
                                    if entry.kind == .array || entry.kind == .object {
                                        out.reserve(op.prefixRoom &+ 20)
                                        out.appendPadded(prefixes + op.prefixStart, count: op.prefixLength)
                                        out.appendReserved(decimal: Int64(entry.count))
                                        continue
                                    }
                                }
                                if op.roundSlot >= 0, resolved[op.roundSlot] >= 0 {
                                    // `round(path * 10^k)` of a short decimal: its digits, as evaluating gives.
                                    let entry = tape[resolved[op.roundSlot]]
                                    if entry.kind == .number {
                                        let source = text + Int(entry.start)
                                        let length = Int(entry.end &- entry.start)
                                        let power = op.roundPower
                                        let readable = byteCount &- Int(entry.start)
                                        out.reserve(op.prefixRoom &+ ScaledRound.room(count: length, power: power))
                                        out.appendPadded(prefixes + op.prefixStart, count: op.prefixLength)
                                        if out.appendReserved({ ScaledRound.write(source, count: length, readable: readable, power: power, to: $0) }) { continue }
                                        out.removeLast(op.prefixLength)
                                    }
                                }
                                switch program.evaluate(k, evaluation) {
                                case .success(let value):
                                    switch value {
                                    case .node(let i):
                                        let entry = tape[i]
                                        let length = Int(entry.end &- entry.start)
                                        out.reserve(op.prefixRoom &+ length)
                                        out.appendPadded(prefixes + op.prefixStart, count: op.prefixLength)
                                        out.appendReserved(text + Int(entry.start), count: length)
                                    case .int(let v):
                                        out.reserve(op.prefixRoom &+ 20)
                                        out.appendPadded(prefixes + op.prefixStart, count: op.prefixLength)
                                        out.appendReserved(decimal: v)
                                    case .null:
                                        out.reserve(op.prefixRoom &+ 4)
                                        out.appendPadded(prefixes + op.prefixStart, count: op.prefixLength)
                                        out.appendReserved(SelectStage.null.utf8Start, count: 4)
                                    case let value:
                                        out.append(program.prefix(k))
                                        writer.reset()
                                        SelectStage.write(value, view: view, to: &writer)
                                        writer.bytes.withUnsafeBufferPointer { out.append($0) }
                                    }
                                case .failure(let error):
                                    failure = error
                                }
                                if failure != nil { break }
                            }
                            if let failure {
                                out.removeLast(out.count - start)
                                batch.errors.append(context.recordError(.transform, failure.message, batch: snapshot, slot: slot))
                                continue
                            }
                            out.reserve(3)
                            if ops.count == 0 { out.appendReserved(SelectStage.openBrace.utf8Start, count: 1) }
                            let end = out.count &+ 1
                            out.appendReserved(SelectStage.closeAndNewline.utf8Start, count: 2)
                            (kept.baseAddress! + keptCount).initialize(to: RecordSlot(start: start, end: end, line: slot.line, offset: slot.offset))
                            keptCount += 1
                        }
                    }
                }
            }
            if out.isInCallerStorage {
                initialized = out.count
            } else {
                initialized = 0
                outgrown = out.takeArray()
            }
        }
        batch.bytes = outgrown ?? written
        batch.records = slots
        batch.tape.removeAll(keepingCapacity: true)
    }

    private static let openBrace: StaticString = "{"
    private static let closeAndNewline: StaticString = "}\n"
    private static let null: StaticString = "null"

    @inline(__always)
    package static func write(_ value: ExpressionValue, view: JSONView, to writer: inout JSONWriter) {
        switch value {
        case .null: writer.writeNull()
        case .bool(let b): writer.write(b)
        case .int(let i): writer.write(i)
        case .double(let d): writer.write(d)
        case .node(let i): writer.writeRaw(view.rawBytes(i))
        case .string(let s): s.withUnsafeBufferPointer { writer.writeString(utf8: $0) }
        case .array: value.write(to: &writer, view: view)
        }
    }
}
