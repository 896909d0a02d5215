/// Records queue depths and records/s over a run in a fixed amount of memory, for the
/// summary's ``RunSummary/Timeline`` and the report's charts.
///
/// The supervisor calls ``observe(at:depths:sinkDepth:records:)`` every few milliseconds;
/// observations are averaged into buckets of ``interval`` seconds (250 ms to begin with).
/// When ``RunSummary/Timeline/capacity`` buckets are full, neighbouring pairs merge and the
/// interval doubles: memory stays O(capacity × stages) however long the run.
struct RunTimeline {
    private(set) var interval: Double
    let capacity: Int
    private(set) var depths: [[Double]]
    private(set) var sinkDepths: [Double] = []
    private(set) var rates: [[Double]]
    // The bucket being filled.
    private var bucketStart: Double?
    private var depthSums: [Double]
    private var sinkDepthSum = 0.0
    private var observations = 0
    private var recordsAtStart: [Int]

    init(stages: Int, interval: Double = 0.25, capacity: Int = RunSummary.Timeline.capacity) {
        precondition(capacity >= 2 && capacity % 2 == 0, "an even capacity of at least 2")
        self.interval = interval
        self.capacity = capacity
        depths = Array(repeating: [], count: stages)
        rates = Array(repeating: [], count: stages)
        depthSums = Array(repeating: 0, count: stages)
        recordsAtStart = Array(repeating: 0, count: stages)
    }

    /// Samples kept so far.
    var count: Int { sinkDepths.count }

    /// One observation: each stage queue's depth now, the sink queue's, and each stage's
    /// records in so far (cumulative).
    mutating func observe(at now: Double, depths current: [Int], sinkDepth: Int, records: [Int]) {
        guard let start = bucketStart else {
            bucketStart = now
            recordsAtStart = records
            add(current, sinkDepth)
            return
        }
        if now - start >= interval && observations > 0 {
            close(at: start + interval, records: records, elapsed: now - start)
            bucketStart = now
            recordsAtStart = records
        }
        add(current, sinkDepth)
    }

    /// Closes the last, partial bucket at the end of the run.
    mutating func finish(at now: Double, records: [Int]) {
        guard let start = bucketStart, observations > 0 else { return }
        close(at: now, records: records, elapsed: max(now - start, 1e-6))
        bucketStart = nil
    }


    /// The summary's form, with stage names.
    func summary(names: [String]) -> RunSummary.Timeline {
        RunSummary.Timeline(
            intervalSeconds: interval,
            stages: names.indices.map { k in
                RunSummary.Timeline.Series(name: names[k], queueDepth: depths[k].map(Self.round), recordsPerSecond: rates[k].map(Self.round))
            },
            sinkQueueDepth: sinkDepths.map(Self.round))
    }

    private mutating func add(_ current: [Int], _ sinkDepth: Int) {
        for k in depthSums.indices where k < current.count { depthSums[k] += Double(current[k]) }
        sinkDepthSum += Double(sinkDepth)
        observations += 1
    }

    private mutating func close(at _: Double, records: [Int], elapsed: Double) {
        let n = Double(observations)
        for k in depths.indices {
            depths[k].append(depthSums[k] / n)
            let done = k < records.count ? records[k] - recordsAtStart[k] : 0
            rates[k].append(Double(done) / elapsed)
            depthSums[k] = 0
        }
        sinkDepths.append(sinkDepthSum / n)
        sinkDepthSum = 0
        observations = 0
        if sinkDepths.count == capacity { halve() }
    }

    /// Merges neighbouring pairs: depths and rates average (the buckets are equally long).
    private mutating func halve() {
        func merged(_ values: [Double]) -> [Double] {
            stride(from: 0, to: values.count - 1, by: 2).map { (values[$0] + values[$0 + 1]) / 2 }
        }
        depths = depths.map(merged)
        rates = rates.map(merged)
        sinkDepths = merged(sinkDepths)
        interval *= 2
    }

    private static func round(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
