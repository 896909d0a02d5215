import Foundation

/// What held a finished run back, and what to change: read from its summary's accounting
/// (``RunSummary/StageStats`` times, ``RunSummary/ReaderStats``, ``RunSummary/SinkStats``).
///
/// Used by `sluice explain CONFIG --from RUN` and by `sluice report`, so both say the same.
///
/// The rules, in order:
/// 1. **CPU.** The busy time of everything that runs on the cores (readers, CPU stages,
///    output encoding, the sink) is at least 85 % of `cores` × wall: the cores are the
///    bound. More workers or queue cannot help; the costliest part is named.
/// 2. **One part.** Otherwise the part with the highest utilisation (busy / what it may
///    use at once) bounds the run when it is at least 70 % busy; its neighbours confirm
///    it (the part before it blocked, the one after it waiting). The advice scales it by
///    how much slack the next-busiest part leaves: a stage at 97 % while the next is at
///    40 % can take about 2.4× the workers before that one binds.
/// 3. **Input order.** With several readers, the readers were blocked at least 30 % of
///    their time while the first stage waited at least 30 % of its: the stages had room, so
///    what held the readers was the admission gate, full of finished output of later files
///    waiting for the in-order sink (the reader on the file being written is the bound).
/// 4. **Nothing.** No part is 70 % busy: the run was too short, or waited on something
///    outside (I/O, a `command`'s child), and no setting is advised.
///
/// Queue and batch-size advice follow the bound: a stage that is both blocked and, after
/// it, a stage waiting in turn means bursts a larger queue absorbs; tiny batches (under
/// 0.2 ms of work each at the bound) spend more on hand-overs than on work.
public struct RunDiagnosis: Sendable, Equatable {
    /// The part that bound the run.
    public enum Bound: Sendable, Equatable {
        case cpu(costliest: String)
        case stage(String)
        case readers
        case sink
        /// Readers ahead of the file being written filled their room (rule 3).
        case inputOrder
        case none
    }

    public var bound: Bound
    /// One sentence: what bound the run, in figures.
    public var headline: String
    /// The figures behind it, one line each.
    public var reasoning: [String]
    /// What to change, one line each, figures included (may be empty).
    public var advice: [String]
    /// The settings the advice changes (`stages.check.workers` → 5), for tools and tests.
    public var changes: [String: Int]

    /// The bound's name as the report shows it.
    public var boundName: String {
        switch bound {
        case .cpu(let part): return "the CPU (\(part) costliest)"
        case .stage(let name): return "stage \(name)"
        case .readers: return "the readers"
        case .sink: return "the sink"
        case .inputOrder: return "the input order (the file being written)"
        case .none: return "nothing in particular"
        }
    }

    /// One part's load, for the rules above.
    struct Part {
        var name: String
        /// `stage`, `readers`, `sink`.
        var role: String
        var busy: Double
        /// Slots × span: what it could have used.
        var capacity: Double
        var utilisation: Double { capacity > 0 ? min(1, busy / capacity) : 0 }
        var stage: RunSummary.StageStats?
    }

    /// Diagnoses `summary`. `batchSize` and `blockingStages` come from the config when it
    /// is known (`explain --from`); otherwise from the summary.
    public init(_ summary: RunSummary, batchSize: Int? = nil) {
        var reasoning: [String] = []
        var advice: [String] = []
        var changes: [String: Int] = [:]
        let wall = max(summary.stages.compactMap(\.spanSeconds).max() ?? summary.elapsedSeconds, 1e-9)
        let cores = summary.cores ?? summary.stageThreads ?? 1
        let threads = summary.stageThreads ?? cores
        var parts: [Part] = []
        if let r = summary.readers {
            parts.append(Part(name: "readers", role: "readers", busy: r.busySeconds, capacity: Double(max(1, r.threads)) * wall))
        }
        for s in summary.stages {
            let slots = Double(Self.slots(s))
            parts.append(Part(name: s.name, role: "stage", busy: s.busySeconds, capacity: slots * (s.spanSeconds ?? wall), stage: s))
        }
        if let k = summary.sink {
            parts.append(Part(name: "sink", role: "sink", busy: k.writeSeconds + k.sealSeconds, capacity: max(k.spanSeconds, wall)))
        }
        let pct = { (x: Double) in "\(Int((x * 100).rounded())) %" }
        let secs = { (x: Double) in String(format: "%.2f s", x) }
        for p in parts {
            var line = "\(p.role == "stage" ? "stage " : "")\(p.name): busy \(secs(p.busy)) of \(secs(p.capacity)) (\(pct(p.utilisation)))"
            if let s = p.stage, let span = s.spanSeconds, span > 0 {
                let all = Double(Self.slots(s)) * span
                line += "; waiting \(pct((s.waitingSeconds ?? 0) / all)), blocked \(pct((s.blockedSeconds ?? 0) / all)), ready without a thread \(pct((s.readySeconds ?? 0) / all))"
                line += " — \(s.workers) worker\(s.workers == 1 ? "" : "s")"
            } else if p.role == "readers", let r = summary.readers, p.capacity > 0 {
                line += "; blocked \(pct(r.blockedSeconds / p.capacity)) (no room in the first stage's queue or for more batches in flight)"
            }
            reasoning.append(line)
        }
        let encode = summary.sink?.encodeSeconds ?? 0
        if encode > 0 { reasoning.append("output encoding (on the stage threads): \(secs(encode))") }

        // 1. CPU: everything on the cores (a `command` stage waits on its children).
        let cpuStages = summary.stages.filter { $0.kind != "command" }
        let cpuBusy = parts.filter { $0.role != "stage" || $0.stage?.kind != "command" }.reduce(0) { $0 + $1.busy } + encode
        let cpuShare = cpuBusy / (Double(cores) * wall)
        reasoning.append("on the cores: \(secs(cpuBusy)) busy of \(cores) core\(cores == 1 ? "" : "s") × \(secs(wall)) (\(pct(min(cpuShare, 1))))")
        // The first stage also parses (indexes) every record: say so, or it looks expensive.
        let firstName = summary.stages.first?.name
        var costs: [(String, Double)] = cpuStages.map { s in
            ("stage \(s.name)\(s.name == firstName ? " (with parsing the records, which the first stage does)" : "")", s.busySeconds)
        }
        if let r = summary.readers { costs.append(("reading (decode \(secs(r.decodeSeconds)), frame \(secs(r.frameSeconds)))", r.busySeconds)) }
        costs.append(("output encoding", encode))
        if let k = summary.sink { costs.append(("the sink's writes", k.writeSeconds + k.sealSeconds)) }
        let costliest = costs.max { $0.1 < $1.1 } ?? ("", 0)

        let ranked = parts.sorted { $0.utilisation > $1.utilisation }
        let bound: Bound
        var headline: String
        // A stage that had a batch and room for it but no thread: the threads were on
        // other stages, or the cores on other processes (or waking up).
        let starved = cpuStages.map { s -> (String, Double) in
            let all = Double(Self.slots(s)) * max(s.spanSeconds ?? wall, 1e-9)
            return (s.name, (s.readySeconds ?? 0) / all)
        }.max { $0.1 < $1.1 } ?? ("", 0)
        if (cpuShare >= 0.85 || (starved.1 >= 0.3 && cpuShare >= 0.5)) && wall >= 0.05 {
            let name = costliest.0.hasPrefix("stage ") ? String(costliest.0.dropFirst(6).prefix { $0 != " " }) : costliest.0
            bound = .cpu(costliest: name)
            headline = "The cores bound the run: this run kept \(pct(min(cpuShare, 1))) of \(cores) core\(cores == 1 ? "" : "s") busy; \(costliest.0) cost the most, \(secs(costliest.1)) (\(pct(costliest.1 / max(cpuBusy, 1e-9))) of the busy time)."
            if starved.1 >= 0.3 {
                headline += " Stage \(starved.0) had a batch and room for it but no thread \(pct(starved.1)) of the time\(cpuShare < 0.85 ? ": the cores were taken by other processes on this machine, or threads were slow to wake" : "")."
            }
            advice.append("More workers, readers or queue cannot make this run faster: the \(threads) thread\(threads == 1 ? "" : "s") that run the stages (the readers among them when no stage blocks) already use the \(cores) core\(cores == 1 ? "" : "s"). Run on more cores (or `--shard` over machines), or make \(costliest.0) cheaper.")
            let over = summary.stages.filter { $0.kind != "command" && !Self.runsInOrder($0) && $0.workers > threads }
            for s in over {
                advice.append("stage \(s.name): workers \(s.workers) → \(threads): only \(threads) shared thread\(threads == 1 ? "" : "s") run CPU stages, so more workers only add queued batches (memory).")
                changes["stages.\(s.name).workers"] = threads
            }
        } else if let top = ranked.first, top.utilisation >= 0.7 {
            let next = ranked.dropFirst().first?.utilisation ?? 0
            let headroom = min(4, 1 / max(next, 0.25))
            switch top.role {
            case "readers":
                bound = .readers
                let r = summary.readers!
                let first = summary.stages.first
                headline = "The readers bound the run: \(r.threads) reader\(r.threads == 1 ? "" : "s") busy \(pct(top.utilisation)) (decode \(secs(r.decodeSeconds)), frame \(secs(r.frameSeconds)))\(first.map { s in "; stage \(s.name) waited \(pct((s.waitingSeconds ?? 0) / max(1e-9, Double(Self.slots(s)) * (s.spanSeconds ?? wall))))" } ?? "")."
                let files = summary.files.processed + summary.files.failed
                let wanted = min(max(files, 1), Int((Double(r.threads) * headroom).rounded(.up)))
                if wanted > r.threads {
                    advice.append("input.readers: \(r.threads) → \(wanted): the stages after them were at most \(pct(next)) busy, room for about \(String(format: "%.1f", headroom))× the input.")
                    changes["input.readers"] = wanted
                } else {
                    advice.append("input.readers: more readers cannot help (\(files) file\(files == 1 ? "" : "s")); split large files, or use a faster codec.")
                }
            case "sink":
                bound = .sink
                headline = "The sink bound the run: its one thread was writing \(pct(top.utilisation)) of the time."
                advice.append("The sink writes in input order on one thread: write to a faster disk, or use fewer outputs/partitions; encoding (\(secs(encode))) already runs on the stage threads.")
            default:
                let s = top.stage!
                bound = .stage(s.name)
                let before = summary.stages.firstIndex(of: s).flatMap { i in i > 0 ? summary.stages[i - 1] : nil }
                let after = summary.stages.firstIndex(of: s).flatMap { i in i + 1 < summary.stages.count ? summary.stages[i + 1] : nil }
                var why = "stage \(s.name) was busy \(pct(top.utilisation)) of the run with \(s.workers) worker\(s.workers == 1 ? "" : "s")"
                if let b = before, let span = b.spanSeconds, span > 0 {
                    why += "; \(b.name) before it was blocked \(pct((b.blockedSeconds ?? 0) / (Double(Self.slots(b)) * span)))"
                }
                if let a = after, let span = a.spanSeconds, span > 0 {
                    why += "; \(a.name) after it waited \(pct((a.waitingSeconds ?? 0) / (Double(Self.slots(a)) * span)))"
                }
                headline = why.prefix(1).uppercased() + why.dropFirst() + "."
                if Self.runsInOrder(s) {
                    advice.append("stage \(s.name) (\(s.kind)) runs one batch at a time in input order: more workers cannot help; make its work cheaper, or split the input with `--shard`.")
                } else {
                    var wanted = Int((Double(s.workers) * headroom).rounded(.up))
                    if s.kind != "command" { wanted = min(wanted, threads) }
                    if wanted > s.workers {
                        advice.append("stage \(s.name): workers \(s.workers) → \(wanted): the next-busiest part was at \(pct(next)), room for about \(String(format: "%.1f", headroom))× this stage's rate\(s.kind == "command" ? " (each worker is one more child process)" : "").")
                        changes["stages.\(s.name).workers"] = wanted
                    } else {
                        advice.append("stage \(s.name): its \(s.workers) workers already use every shared thread (\(threads)); run on more cores, or make it cheaper.")
                    }
                }
            }
        } else if let r = summary.readers, r.threads > 1, let first = summary.stages.first,
                  let firstSpan = first.spanSeconds, firstSpan > 0,
                  r.blockedSeconds / (Double(r.threads) * wall) >= 0.3,
                  (first.waitingSeconds ?? 0) / (Double(Self.slots(first)) * firstSpan) >= 0.3 {
            bound = .inputOrder
            let blocked = r.blockedSeconds / (Double(r.threads) * wall)
            let waited = (first.waitingSeconds ?? 0) / (Double(Self.slots(first)) * firstSpan)
            headline = "The input order held the readers back: the \(r.threads) readers were blocked \(pct(blocked)) of the run while stage \(first.name) waited \(pct(waited)) for batches. The sink writes the files in input order; readers ahead of the file being written had filled their room for finished output, so the one reader on that file set the pace."
            let readers = r.threads + 1
            advice.append("input.readers \(r.threads) → \(readers): each reader beyond the first adds \(PipelinePlan.reorderBytesPerExtraReader >> 20) MiB of room for later files' finished output (memory grows with it; see `sluice explain`).")
            changes["input.readers"] = readers
            advice.append("Files of very unequal size make the others wait for the largest: split the largest files, or give them their own run.")
        } else {
            bound = .none
            let top = ranked.first
            headline = "Nothing bound the run for long: the busiest part, \(top.map { "\($0.role == "stage" ? "stage " : "")\($0.name)" } ?? "none"), was \(pct(top?.utilisation ?? 0)) busy\(wall < 1 ? " in a run of \(secs(wall))" : ""); it waited on I/O or was too short to tell."
        }

        // Queues: a stage blocked while the one after it also waited is bursty traffic.
        for (i, s) in summary.stages.enumerated() where i + 1 < summary.stages.count {
            let n = summary.stages[i + 1]
            guard let span = s.spanSeconds, span > 0, let nspan = n.spanSeconds, nspan > 0 else { continue }
            let blocked = (s.blockedSeconds ?? 0) / (Double(Self.slots(s)) * span)
            let waited = (n.waitingSeconds ?? 0) / (Double(Self.slots(n)) * nspan)
            if blocked >= 0.15 && waited >= 0.15 && bound != .stage(n.name) {
                let queue = n.queueCapacity * 2
                advice.append("stage \(n.name): queue \(n.queueCapacity) → \(queue): \(s.name) was blocked \(pct(blocked)) while \(n.name) waited \(pct(waited)) — bursts a longer queue absorbs.")
                changes["stages.\(n.name).queue"] = queue
            }
        }
        // Batches: at the bound, under 0.2 ms of work per batch is mostly hand-over cost.
        if let size = batchSize ?? summary.batchSize, case .stage(let name) = bound,
           let s = summary.stages.first(where: { $0.name == name }), s.recordsIn > 0 {
            let files = max(1, summary.files.processed + summary.files.failed)
            let perFile = Double(summary.records.in) / Double(files)
            let perBatch = min(Double(size), max(1, perFile))
            let batches = Double(s.recordsIn) / perBatch
            let perBatchSeconds = s.busySeconds / batches
            if perBatchSeconds < 0.0002 && perFile >= Double(size) {
                advice.append("batch_size: \(size) → \(size * 2): stage \(name) spent \(String(format: "%.0f", perBatchSeconds * 1e6)) µs per batch, about what handing a batch over costs.")
                changes["batch_size"] = size * 2
            }
        }
        self.bound = bound
        self.headline = headline
        self.reasoning = reasoning
        self.advice = advice
        self.changes = changes
    }

    /// Batches a stage may run at once.
    static func slots(_ s: RunSummary.StageStats) -> Int { runsInOrder(s) ? 1 : max(1, s.workers) }
    static func runsInOrder(_ s: RunSummary.StageStats) -> Bool { s.kind == "dedupe" || s.kind == "limit" }

    /// The diagnosis as text (`explain --from`).
    public var text: String {
        var lines = ["bound: \(boundName)", headline, "", "figures:"]
        lines += reasoning.map { "  " + $0 }
        lines.append("")
        if advice.isEmpty {
            lines.append("advice: none — no setting would make this run faster")
        } else {
            lines.append("advice:")
            lines += advice.map { "  - " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
