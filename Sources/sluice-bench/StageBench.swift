import Sluice

/// Measures filter + validate + select, single thread, on in-memory batches of order
/// records (the issue's config), and returns a one-paragraph report.
///
/// Records are generated deterministically (about 10% cancelled, 1% failing validation),
/// framed into batches of 1024 and indexed before timing; the timed loop runs the three
/// stages on fresh copies of those batches until at least a second has passed.
func runStageBenchmark(records: Int, expressionHeavy: Bool = false) -> String {
    let batchSize = 1024
    let context = StageContext(stageName: "bench", filePaths: ["orders.ndjson"])
    let filter: FilterStage
    let validate: ValidateStage
    let select: SelectStage
    do {
        filter = try FilterStage.make(config: .init(condition: expressionHeavy
            ? #"status in ["shipped", "pending", "delivered"] && total > 0 && starts_with(customer.id, "C")"#
            : #"status != "cancelled""#))
        validate = try ValidateStage.make(config: .init(
            required: ["id", "total"], types: [.init(field: "id", type: "int"), .init(field: "total", type: "number")]))
        select = try SelectStage.make(config: .init(fields: [
            .init(key: "id", expression: "id"),
            .init(key: "ts", expression: "ts"),
            .init(key: "customer_id", expression: "customer.id"),
            .init(key: "country", expression: "customer.country"),
            .init(key: "total", expression: "total"),
            .init(key: "item_count", expression: "len(items)"),
            .init(key: "total_cents", expression: "round(total * 100)"),
        ] + (expressionHeavy ? [
            .init(key: "items_total", expression: "sum(items[*].price)"),
            .init(key: "size", expression: #"if(total > 100, "big", "small")"#),
            .init(key: "name", expression: #"coalesce(customer.name, "?")"#),
            .init(key: "country_lc", expression: "lower(customer.country)"),
        ] : [])))
    } catch {
        return "stage benchmark: config failed: \(error)"
    }

    var batches: [Batch] = []
    var inputBytes = 0
    var generator = SplitMix64(seed: 42)
    var made = 0
    while made < records {
        let count = min(batchSize, records - made)
        var bytes: [UInt8] = []
        var slots: [RecordSlot] = []
        for k in 0..<count {
            let start = bytes.count
            bytes.append(contentsOf: orderRecord(id: made + k, random: &generator).utf8)
            slots.append(RecordSlot(start: start, end: bytes.count, line: k + 1, offset: start))
            bytes.append(UInt8(ascii: "\n"))
        }
        inputBytes += bytes.count
        batches.append(Batch(file: 0, index: batches.count, bytes: bytes, records: slots))
        made += count
    }

    let clock = ContinuousClock()
    let indexStart = clock.now
    for b in batches.indices {
        for slot in batches[b].records.indices {
            try? batches[b].indexRecord(at: slot)
        }
    }
    let indexTime = clock.now - indexStart

    var rounds = 0
    var out = 0, filtered = 0, failed = 0, outputBytes = 0
    var stageTimes: [Duration] = [.zero, .zero, .zero]
    let start = clock.now
    repeat {
        for original in batches {
            var batch = original
            var t = clock.now
            filter.process(&batch, context: context)
            var u = clock.now
            stageTimes[0] += u - t
            t = u
            validate.process(&batch, context: context)
            u = clock.now
            stageTimes[1] += u - t
            t = u
            select.process(&batch, context: context)
            u = clock.now
            stageTimes[2] += u - t
            if rounds == 0 {
                out += batch.records.count
                filtered += batch.filtered
                failed += batch.errors.count
                outputBytes += batch.bytes.count
            }
        }
        rounds += 1
    } while clock.now - start < .seconds(1)
    let elapsed = clock.now - start

    func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
    func rate(_ n: Int, _ d: Duration) -> String {
        let perSecond = Double(n) / max(seconds(d), 1e-9)
        return perSecond >= 1e6 ? "\(Double(Int(perSecond / 1e4)) / 100)M" : "\(Int(perSecond / 1e3))k"
    }
    let total = records * rounds
    return """
        stages\(expressionHeavy ? " --expressions" : "") (filter + validate + select), \(records) records × \(rounds) rounds, batch \(batchSize), 1 thread: \
        \(rate(total, elapsed)) records/s \
        [filter \(rate(total, stageTimes[0])), validate \(rate(total, stageTimes[1])), select \(rate(total, stageTimes[2])) records/s each]; \
        per round: in \(records) (\(inputBytes) bytes), out \(out) (\(outputBytes) bytes), filtered \(filtered), failed \(failed); \
        indexing alone: \(rate(records, indexTime)) records/s
        """
}

private func orderRecord(id: Int, random: inout SplitMix64) -> String {
    let statuses = ["shipped", "pending", "delivered", "shipped", "pending", "delivered", "shipped", "pending", "delivered", "cancelled"]
    let countries = ["DE", "FR", "US", "GB", "JP", "BR"]
    let status = statuses[random.below(statuses.count)]
    var items: [String] = []
    for n in 0..<(1 + random.below(4)) {
        items.append(#"{"sku":"SKU-\#(random.below(10_000))","qty":\#(1 + random.below(5)),"price":\#(random.below(10_000)).\#(random.below(90) + 10),"name":"Item \#(n)"}"#)
    }
    let cents = random.below(1_000_000)
    // About 1% of records miss their total, to exercise validation failures.
    let total = random.below(100) == 0 ? "" : #""total":\#(cents / 100).\#(cents % 100 + 100 - 100 < 10 ? "0" : "")\#(cents % 100),"#
    return #"{"id":\#(id),"ts":"2024-03-\#(10 + random.below(18))T12:\#(10 + random.below(50)):00Z","status":"\#(status)","customer":{"id":"C\#(100_000 + random.below(900_000))","name":"Customer \#(id)","country":"\#(countries[random.below(countries.count)])","vip":\#(random.below(2) == 0)},\#(total)"currency":"EUR","items":[\#(items.joined(separator: ","))],"note":"gift wrap, leave at door \u00e9"}"#
}
