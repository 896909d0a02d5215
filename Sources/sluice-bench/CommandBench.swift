import Foundation
import Sluice

/// Measures records/s through a `command` stage whose worker echoes every line back
/// (`cat`, a Python loop, or any argv), on in-memory batches of order records, with
/// `threads` stage workers (each with its own child process), and returns a report.
///
/// What it measures is the stage's own cost — compacting and writing the batch, reading
/// and indexing the answers — plus the pipe round trips and the worker's time; the
/// records are generated and indexed before timing. Runs for at least two seconds.
func runCommandBenchmark(records: Int, batchSize: Int, threads: Int, argv: [String]) -> String {
    let stage: CommandStage
    do {
        stage = try CommandStage.make(config: .init(argv: argv, timeout: .seconds(60)))
    } catch {
        return "command benchmark: config failed: \(error)"
    }
    var generator = OrderGenerator(seed: 42)
    var batches: [Batch] = []
    var inputBytes = 0
    var made = 0
    while made < records {
        let count = min(batchSize, records - made)
        var bytes: [UInt8] = []
        var slots: [RecordSlot] = []
        for k in 0..<count {
            let start = bytes.count
            generator.appendOrder(id: made + k, to: &bytes)
            slots.append(RecordSlot(start: start, end: bytes.count - 1, line: made + k + 1, offset: start))
        }
        inputBytes += bytes.count
        var batch = Batch(file: 0, index: batches.count, bytes: bytes, records: slots)
        for slot in batch.records.indices { try? batch.indexRecord(at: slot) }
        batches.append(batch)
        made += count
    }

    let context = StageContext(stageName: "bench", filePaths: ["orders.ndjson"])
    let inputs = batches
    // Warm up: start every worker's child before timing.
    DispatchQueue.concurrentPerform(iterations: threads) { _ in
        var batch = inputs[0]
        stage.process(&batch, context: context)
    }
    let clock = ContinuousClock()
    let start = clock.now
    var rounds = 0
    let failures = Counter()
    repeat {
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for b in stride(from: t, to: inputs.count, by: threads) {
                var batch = inputs[b]
                stage.process(&batch, context: context)
                if batch.records.count != inputs[b].records.count { failures.add(1) }
            }
        }
        rounds += 1
    } while clock.now - start < .seconds(2)
    let elapsed = clock.now - start
    stage.finish(context: context)

    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let total = records * rounds
    let perSecond = Double(total) / seconds
    let megabytes = Double(inputBytes * rounds) / seconds / 1e6
    return """
        command stage \(argv.joined(separator: " ")), \(records) records × \(rounds) rounds, batch \(batchSize), \
        \(threads) worker(s): \(Int(perSecond / 1000))k records/s (\(String(format: "%.1f", megabytes)) MB/s of records in); \
        batches with fewer records out than in (dropped or failed by the worker): \(failures.value)
        """
}

/// A thread-safe count.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { lock.withLock { count += n } }
    var value: Int { lock.withLock { count } }
}
