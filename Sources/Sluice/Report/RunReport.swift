import Foundation

/// One finished run as a single, self-contained HTML page (`sluice report`, `sluice run
/// --report`): inline CSS and SVG, no script, no font or image to fetch, printable.
///
/// It shows the pipeline as a graph (readers → stages → sink) with each part's
/// utilisation, where each part's time went, the depth of every queue and the records/s of
/// every stage over the run (from the summary's ``RunSummary/Timeline``), what bound the
/// run and what to change (``RunDiagnosis``), the errors by stage, kind and file, and the
/// records per output. Every figure comes from the summary, formatted as the summary
/// rounds it (seconds to the millisecond), so the page and the JSON agree.
///
/// The markup is XHTML-clean (every element closed, only XML's own entities), so the page
/// parses as XML too — which is how the tests check its SVG.
public enum RunReport {
    /// The page for `summary`. `diagnosis` defaults to the summary's own.
    public static func html(_ summary: RunSummary, diagnosis: RunDiagnosis? = nil) -> String {
        let diagnosis = diagnosis ?? RunDiagnosis(summary)
        var page = Page()
        page.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>")
        page.raw("<title>\(esc("sluice report: \(summary.pipeline) \(summary.runID)"))</title>")
        page.raw("<style>\(css)</style></head><body>")
        header(summary, &page)
        bound(summary, diagnosis, &page)
        graph(summary, diagnosis, &page)
        timeTable(summary, &page)
        timeline(summary, &page)
        errors(summary, &page)
        outputs(summary, &page)
        page.raw("<footer>Written by sluice report from \(esc(summary.pipeline))-\(esc(summary.runID)).summary.json. Every figure is the summary's.</footer>")
        page.raw("</body></html>\n")
        return page.text
    }

    // MARK: Sections

    private static func header(_ s: RunSummary, _ page: inout Page) {
        page.raw("<header><h1>\(esc(s.pipeline)) <span class=\"dim\">run \(esc(s.runID))</span></h1>")
        var facts = ["started \(s.startedAt)", "ended \(s.endedAt)", "\(seconds(s.elapsedSeconds)) elapsed", "exit code \(s.exitCode)"]
        if let shard = s.shard { facts.append("shard \(shard)") }
        if let cores = s.cores { facts.append("\(s.stageThreads ?? cores) stage thread\(s.stageThreads == 1 ? "" : "s") on \(cores) core\(cores == 1 ? "" : "s")") }
        page.raw("<p class=\"dim\">\(esc(facts.joined(separator: " · ")))</p>")
        if let failure = s.failure { page.raw("<p class=\"failure\">\(esc(failure))</p>") }
        page.raw("<table class=\"facts\"><tr>")
        let cells: [(String, String, String)] = [
            ("files processed", "\(s.files.processed)", "files-processed"), ("files failed", "\(s.files.failed)", "files-failed"),
            ("files skipped", "\(s.files.skipped)", "files-skipped"),
            ("records in", "\(s.records.in)", "records-in"), ("records out", "\(s.records.out)", "records-out"),
            ("filtered", "\(s.records.filtered)", "records-filtered"), ("failed", "\(s.records.failed)", "records-failed"),
            ("discarded", "\(s.records.discarded)", "records-discarded"),
            ("MB read", mb(s.bytes.read), "bytes-read"), ("MB decoded", mb(s.bytes.decoded), "bytes-decoded"),
            ("MB written", mb(s.bytes.written), "bytes-written"),
        ]
        for (label, value, id) in cells {
            page.raw("<td><div class=\"big\" id=\"\(id)\">\(esc(value))</div><div class=\"dim\">\(esc(label))</div></td>")
        }
        page.raw("</tr></table></header>")
    }

    private static func bound(_ s: RunSummary, _ d: RunDiagnosis, _ page: inout Page) {
        page.raw("<section><h2>What bound the run</h2>")
        page.raw("<p class=\"headline\" id=\"bound\">\(esc(d.headline))</p>")
        if d.advice.isEmpty {
            page.raw("<p id=\"advice\">No setting would make this run faster.</p>")
        } else {
            page.raw("<ul id=\"advice\">")
            for line in d.advice { page.raw("<li>\(code(line))</li>") }
            page.raw("</ul>")
        }
        page.raw("<details open=\"open\"><summary>The figures</summary><ul class=\"dim\">")
        for line in d.reasoning { page.raw("<li>\(esc(line))</li>") }
        page.raw("</ul></details>")
        page.raw("<p class=\"dim\">The same advice, with the config: <code>sluice explain CONFIG --from \(esc(s.pipeline))-\(esc(s.runID)).summary.json</code></p></section>")
    }

    /// The pipeline: one box per part, with a bar of where its time went; arrows carry
    /// the queue between parts (capacity and high-water mark).
    private static func graph(_ s: RunSummary, _ d: RunDiagnosis, _ page: inout Page) {
        struct Node {
            var title: String
            var subtitle: String
            var shares: [Double]   // busy, waiting, blocked, ready
            var utilisation: Double
            var isBound: Bool
        }
        var nodes: [Node] = []
        if let r = s.readers {
            let all = max(r.spanSeconds, 1e-9)
            nodes.append(Node(title: "readers", subtitle: "\(r.threads) thread\(r.threads == 1 ? "" : "s")",
                              shares: [r.busySeconds / all, max(0, all - r.busySeconds - r.blockedSeconds) / all, r.blockedSeconds / all, 0],
                              utilisation: r.utilisation, isBound: d.bound == .readers || d.bound == .inputOrder))
        }
        for st in s.stages {
            let slots = Double(RunDiagnosis.slots(st)), span = st.spanSeconds ?? 0
            let all = max(slots * span, 1e-9)
            var isBound = d.bound == .stage(st.name)
            if case .cpu(let name) = d.bound, name == st.name { isBound = true }
            nodes.append(Node(title: st.name, subtitle: "\(st.kind), \(st.workers) worker\(st.workers == 1 ? "" : "s")",
                              shares: [st.busySeconds / all, (st.waitingSeconds ?? 0) / all, (st.blockedSeconds ?? 0) / all, (st.readySeconds ?? 0) / all],
                              utilisation: st.utilisation ?? 0, isBound: isBound))
        }
        if let k = s.sink {
            let all = max(k.spanSeconds, 1e-9)
            nodes.append(Node(title: "sink", subtitle: "1 thread, encode \(seconds(k.encodeSeconds)) on stage threads",
                              shares: [(k.writeSeconds) / all, k.waitingSeconds / all, 0, 0],
                              utilisation: k.utilisation, isBound: d.bound == .sink))
        }
        guard !nodes.isEmpty else { return }
        let boxW = 150.0, boxH = 92.0, gap = 58.0, perRow = 5
        let rows = (nodes.count + perRow - 1) / perRow
        let width = Double(min(nodes.count, perRow)) * (boxW + gap) - gap + 20
        let height = Double(rows) * (boxH + 50) - 30
        var svg = "<svg class=\"graph\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"pipeline graph\">"
        svg += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>"
        let queueLabels: [String] = nodes.indices.map { i in
            // The queue in front of node i (stage queues; the sink's queue before the sink).
            let stageIndex = i - (s.readers == nil ? 0 : 1)
            if stageIndex >= 0 && stageIndex < s.stages.count {
                let st = s.stages[stageIndex]
                return "queue \(st.queueHighWater)/\(st.queueCapacity)"
            }
            if stageIndex == s.stages.count, let k = s.sink { return "queue \(k.queueHighWater)/\(k.queueCapacity)" }
            return ""
        }
        for (i, node) in nodes.enumerated() {
            let row = i / perRow, col = i % perRow
            let x = 10 + Double(col) * (boxW + gap), y = 10 + Double(row) * (boxH + 50)
            svg += "<g class=\"node\" data-node=\"\(esc(node.title))\">"
            svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(boxW))\" height=\"\(f(boxH))\" rx=\"6\" class=\"\(node.isBound ? "box bound" : "box")\"/>"
            svg += "<text x=\"\(f(x + 8))\" y=\"\(f(y + 20))\" class=\"t1\">\(esc(clip(node.title, 20)))</text>"
            svg += "<text x=\"\(f(x + 8))\" y=\"\(f(y + 36))\" class=\"t2\">\(esc(clip(node.subtitle, 26)))</text>"
            svg += "<text x=\"\(f(x + 8))\" y=\"\(f(y + 58))\" class=\"t1\">\(percent(node.utilisation)) busy</text>"
            var bx = x + 8
            let barW = boxW - 16
            for (share, cls) in zip(node.shares, ["busy", "waiting", "blocked", "ready"]) where share > 0 {
                let w = barW * min(1, share)
                svg += "<rect x=\"\(f(bx))\" y=\"\(f(y + 68))\" width=\"\(f(w))\" height=\"12\" class=\"\(cls)\"><title>\(cls) \(percent(share))</title></rect>"
                bx += w
            }
            svg += "<rect x=\"\(f(x + 8))\" y=\"\(f(y + 68))\" width=\"\(f(barW))\" height=\"12\" class=\"frame\"/>"
            svg += "</g>"
            if i + 1 < nodes.count {
                let label = queueLabels[i + 1]
                if col + 1 < perRow {
                    svg += "<line x1=\"\(f(x + boxW))\" y1=\"\(f(y + boxH / 2))\" x2=\"\(f(x + boxW + gap - 2))\" y2=\"\(f(y + boxH / 2))\" class=\"edge\" marker-end=\"url(#arrow)\"/>"
                    svg += "<text x=\"\(f(x + boxW + gap / 2))\" y=\"\(f(y + boxH / 2 - 6))\" class=\"t3\" text-anchor=\"middle\">\(esc(label))</text>"
                } else {
                    svg += "<path d=\"M\(f(x + boxW / 2)),\(f(y + boxH)) L\(f(x + boxW / 2)),\(f(y + boxH + 25)) L\(f(10 + boxW / 2)),\(f(y + boxH + 25)) L\(f(10 + boxW / 2)),\(f(y + boxH + 48))\" class=\"edge\" fill=\"none\" marker-end=\"url(#arrow)\"/>"
                    svg += "<text x=\"\(f(x))\" y=\"\(f(y + boxH + 20))\" class=\"t3\">\(esc(label))</text>"
                }
            }
        }
        svg += "</svg>"
        page.raw("<section><h2>The pipeline</h2>\(svg)")
        page.raw("<p class=\"legend\"><span class=\"sw busy\"></span>busy <span class=\"sw waiting\"></span>waiting for input <span class=\"sw blocked\"></span>blocked on output <span class=\"sw ready\"></span>ready, no free thread · queue: most batches held / capacity · a red box bound the run</p></section>")
    }

    private static func timeTable(_ s: RunSummary, _ page: inout Page) {
        page.raw("<section><h2>Where the time went</h2><table class=\"grid\"><tr><th>part</th><th>workers</th><th>busy s</th><th>waiting s</th><th>blocked s</th><th>ready s</th><th>span s</th><th>utilisation</th><th>records in</th><th>out</th><th>failed</th><th>filtered</th></tr>")
        if let r = s.readers {
            page.raw("<tr data-part=\"readers\"><td>readers <span class=\"dim\">(decode \(seconds(r.decodeSeconds)), frame \(seconds(r.frameSeconds)))</span></td><td>\(r.threads)</td><td>\(ms(r.busySeconds))</td><td></td><td>\(ms(r.blockedSeconds))</td><td></td><td>\(ms(r.spanSeconds))</td><td>\(percent(r.utilisation))</td><td colspan=\"4\"></td></tr>")
        }
        for st in s.stages {
            page.raw("<tr data-stage=\"\(esc(st.name))\"><td>\(esc(st.name)) <span class=\"dim\">\(esc(st.kind))</span></td><td>\(st.workers)</td><td class=\"busy-s\">\(ms(st.busySeconds))</td><td>\(ms(st.waitingSeconds ?? 0))</td><td>\(ms(st.blockedSeconds ?? 0))</td><td>\(ms(st.readySeconds ?? 0))</td><td>\(ms(st.spanSeconds ?? 0))</td><td>\(percent(st.utilisation ?? 0))</td><td>\(st.recordsIn)</td><td>\(st.recordsOut)</td><td>\(st.recordsFailed)</td><td>\(st.recordsFiltered)</td></tr>")
        }
        if let k = s.sink {
            page.raw("<tr data-part=\"sink\"><td>sink <span class=\"dim\">(encode \(seconds(k.encodeSeconds)) on the stage threads, seal \(seconds(k.sealSeconds)))</span></td><td>1</td><td>\(ms(k.writeSeconds))</td><td>\(ms(k.waitingSeconds))</td><td></td><td></td><td>\(ms(k.spanSeconds))</td><td>\(percent(k.utilisation))</td><td colspan=\"4\"></td></tr>")
        }
        page.raw("</table><p class=\"dim\">Worker-seconds: per stage busy + waiting + blocked + ready = span × workers (one slot for dedupe and limit, which run in input order).</p></section>")
    }

    private static func timeline(_ s: RunSummary, _ page: inout Page) {
        guard let t = s.timeline, !t.sinkQueueDepth.isEmpty else {
            page.raw("<section><h2>Over time</h2><p class=\"dim\">No timeline in this summary (a merged summary, or one from an older sluice).</p></section>")
            return
        }
        page.raw("<section><h2>Queue depth over time</h2><p class=\"dim\">Mean batches waiting per \(seconds(t.intervalSeconds)), against each queue's capacity.</p><div class=\"charts\">")
        for (k, series) in t.stages.enumerated() {
            let capacity = k < s.stages.count ? Double(s.stages[k].queueCapacity) : (series.queueDepth.max() ?? 1)
            page.raw(Chart.line(title: "queue of \(series.name)", series: [(series.name, palette[k % palette.count], series.queueDepth)],
                                interval: t.intervalSeconds, yMax: max(1, capacity), unit: "batches", id: "queue-\(series.name)"))
        }
        let sinkCapacity = Double(s.sink?.queueCapacity ?? Int(t.sinkQueueDepth.max() ?? 1))
        page.raw(Chart.line(title: "queue of the sink", series: [("sink", "#555", t.sinkQueueDepth)], interval: t.intervalSeconds,
                            yMax: max(1, sinkCapacity), unit: "batches", id: "queue-sink"))
        page.raw("</div></section>")
        page.raw("<section><h2>Records per second</h2><p class=\"dim\">Records entering each stage, per second, per \(seconds(t.intervalSeconds)).</p>")
        let all = t.stages.enumerated().map { k, series in (series.name, palette[k % palette.count], series.recordsPerSecond) }
        let top = all.flatMap(\.2).max() ?? 1
        page.raw(Chart.line(title: "records/s", series: all, interval: t.intervalSeconds, yMax: max(1, top), unit: "records/s",
                            id: "records-per-second", width: 720, height: 220))
        page.raw("</section>")
    }

    private static func errors(_ s: RunSummary, _ page: inout Page) {
        page.raw("<section><h2>Errors</h2>")
        guard let e = s.errors, !e.byKind.isEmpty else {
            page.raw("<p>No error lines\(s.errors == nil ? " counted in this summary" : "").</p></section>")
            return
        }
        let total = e.byKind.reduce(0) { $0 + $1.count }
        page.raw("<p>\(total) line\(total == 1 ? "" : "s") in the error report\(s.errorReport.isEmpty ? "" : " <code>\(esc(URL(fileURLWithPath: s.errorReport).lastPathComponent))</code>").</p>")
        page.raw("<div class=\"cols\"><table class=\"grid\"><tr><th>stage</th><th>kind</th><th>lines</th><th></th></tr>")
        let most = Double(e.byKind.map(\.count).max() ?? 1)
        for k in e.byKind {
            page.raw("<tr data-error=\"\(esc(k.stage))/\(esc(k.kind))\"><td>\(esc(k.stage))</td><td>\(esc(k.kind))</td><td>\(k.count)</td><td>\(bar(Double(k.count) / most))</td></tr>")
        }
        page.raw("</table><table class=\"grid\"><tr><th>input file</th><th>lines</th></tr>")
        for file in e.topFiles {
            page.raw("<tr data-file=\"\(esc(file.file))\"><td>\(esc(file.file))</td><td>\(file.count)</td></tr>")
        }
        page.raw("</table></div></section>")
    }

    private static func outputs(_ s: RunSummary, _ page: inout Page) {
        page.raw("<section><h2>Outputs</h2>")
        if let rows = s.outputRecords, !rows.isEmpty {
            let most = Double(rows.map(\.records).max() ?? 1)
            page.raw("<table class=\"grid\"><tr><th>route</th><th>partition</th><th>records</th><th></th></tr>")
            for row in rows {
                page.raw("<tr data-output=\"\(esc(row.route))/\(esc(row.partition))\"><td>\(esc(row.route.isEmpty ? "output" : row.route))</td><td>\(esc(row.partition.isEmpty ? "—" : row.partition))</td><td>\(row.records)</td><td>\(bar(Double(row.records) / most))</td></tr>")
            }
            page.raw("</table>")
        }
        if s.outputs.isEmpty {
            page.raw("<p class=\"dim\">No output file committed.</p>")
        } else {
            page.raw("<p>\(s.outputs.count) file\(s.outputs.count == 1 ? "" : "s") written:</p><ul class=\"files\">")
            for path in s.outputs.prefix(50) { page.raw("<li><code>\(esc(path))</code></li>") }
            if s.outputs.count > 50 { page.raw("<li class=\"dim\">and \(s.outputs.count - 50) more</li>") }
            page.raw("</ul>")
        }
        let reports = s.errorReports ?? (s.errorReport.isEmpty ? [] : [s.errorReport])
        if !reports.isEmpty {
            page.raw("<p>Error report\(reports.count == 1 ? "" : "s"):</p><ul class=\"files\">")
            for path in reports { page.raw("<li><code>\(esc(path))</code></li>") }
            page.raw("</ul>")
        }
        page.raw("</section>")
    }

    // MARK: Pieces

    struct Page {
        var text = ""
        mutating func raw(_ s: String) { text += s; text += "\n" }
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]

    static let css = """
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        .dim{color:#666}.failure{color:#b00;font-weight:600}.headline{font-size:16px;font-weight:600}
        table.facts td{padding:4px 14px 4px 0;vertical-align:top}.big{font-size:18px;font-weight:600}
        table.grid{border-collapse:collapse;margin:6px 16px 6px 0}table.grid th,table.grid td{border-bottom:1px solid #e4e4e4;padding:3px 8px;text-align:right}
        table.grid th:first-child,table.grid td:first-child{text-align:left}table.grid th{background:#f6f6f6}
        .cols{display:flex;flex-wrap:wrap;align-items:flex-start}.charts{display:flex;flex-wrap:wrap}
        svg text{font-family:system-ui,sans-serif}.t1{font-size:13px;font-weight:600}.t2{font-size:11px;fill:#555}.t3{font-size:11px;fill:#444}
        .box{fill:#fafafa;stroke:#999;stroke-width:1.2}.box.bound{stroke:#c62828;stroke-width:3;fill:#fff5f5}
        .edge{stroke:#555;stroke-width:1.4}.frame{fill:none;stroke:#888;stroke-width:.6}
        .busy{fill:#2e7d32;background:#2e7d32}.waiting{fill:#cfd8dc;background:#cfd8dc}.blocked{fill:#e53935;background:#e53935}.ready{fill:#fbc02d;background:#fbc02d}
        .sw{display:inline-block;width:12px;height:10px;margin:0 3px 0 10px;border:1px solid #888}
        .axis{stroke:#888;stroke-width:1}.gridline{stroke:#eee;stroke-width:1}.cap{stroke:#c62828;stroke-dasharray:4 3;stroke-width:1}
        .chart{margin:0 14px 10px 0}.bar{display:inline-block;height:10px;background:#90a4ae}
        code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;background:#f3f3f3;padding:0 3px}
        ul.files{columns:2;font-size:12px}footer{margin-top:30px;color:#888;font-size:12px}
        @media print{body{margin:0;max-width:none}section{break-inside:avoid}details{display:block}}
        """

    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // XML 1.0 forbids most control characters.
                if c.value < 0x20 && c != "\n" && c != "\t" { out += "\u{FFFD}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    /// Escapes `line`, showing `backtick` spans as code.
    static func code(_ line: String) -> String {
        let parts = line.split(separator: "`", omittingEmptySubsequences: false)
        return parts.enumerated().map { i, part in i % 2 == 1 ? "<code>\(esc(String(part)))</code>" : esc(String(part)) }.joined()
    }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }
    /// Seconds as the summary rounds them.
    static func ms(_ x: Double) -> String { String(format: "%.3f", x) }
    static func seconds(_ x: Double) -> String { x >= 10 ? String(format: "%.1f s", x) : String(format: "%.3f s", x) }
    static func percent(_ x: Double) -> String { "\(Int((x * 100).rounded())) %" }
    static func mb(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1e6) }
    static func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }
    static func bar(_ share: Double) -> String { "<span class=\"bar\" style=\"width:\(Int((share * 120).rounded()))px\"></span>" }
}

/// Line charts as inline SVG.
enum Chart {
    static func line(title: String, series: [(String, String, [Double])], interval: Double, yMax: Double, unit: String,
                     id: String, width: Double = 340, height: Double = 150) -> String {
        let left = 46.0, right = 10.0, top = 22.0, bottom = 26.0
        let plotW = width - left - right, plotH = height - top - bottom
        let count = series.map(\.2.count).max() ?? 0
        let duration = Double(count) * interval
        let f = RunReport.f, esc = RunReport.esc
        var svg = "<svg class=\"chart\" id=\"\(esc(id))\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"\(esc(title))\">"
        svg += "<text x=\"\(f(left))\" y=\"14\" class=\"t1\">\(esc(title))</text>"
        for tick in [0.0, 0.5, 1.0] {
            let y = top + plotH * (1 - tick)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" class=\"gridline\"/>"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(y + 4))\" class=\"t3\" text-anchor=\"end\">\(esc(label(yMax * tick)))</text>"
        }
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" class=\"axis\"/>"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" class=\"axis\"/>"
        svg += "<text x=\"\(f(left))\" y=\"\(f(height - 8))\" class=\"t3\">0 s</text>"
        svg += "<text x=\"\(f(left + plotW))\" y=\"\(f(height - 8))\" class=\"t3\" text-anchor=\"end\">\(esc(RunReport.seconds(duration))) · \(esc(unit))</text>"
        if unit == "batches" {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top))\" class=\"cap\"><title>capacity \(esc(label(yMax)))</title></line>"
        }
        for (name, color, values) in series where !values.isEmpty {
            let step = values.count > 1 ? plotW / Double(values.count - 1) : 0
            let points = values.enumerated().map { i, v in
                "\(f(left + Double(i) * step)),\(f(top + plotH * (1 - min(1, max(0, v / yMax)))))"
            }.joined(separator: " ")
            svg += values.count == 1
                ? "<circle cx=\"\(f(left))\" cy=\"\(f(top + plotH * (1 - min(1, values[0] / yMax))))\" r=\"3\" fill=\"\(color)\"><title>\(esc(name))</title></circle>"
                : "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.6\"><title>\(esc(name))</title></polyline>"
        }
        if series.count > 1 {
            var x = left + 8
            for (name, color, _) in series {
                svg += "<rect x=\"\(f(x))\" y=\"\(f(top + 2))\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(f(x + 14))\" y=\"\(f(top + 11))\" class=\"t3\">\(esc(name))</text>"
                x += 24 + Double(name.count) * 6.5
            }
        }
        svg += "</svg>"
        return svg
    }

    static func label(_ v: Double) -> String {
        if v >= 1_000_000 { return String(format: "%.1fM", v / 1_000_000) }
        if v >= 10_000 { return String(format: "%.0fk", v / 1000) }
        if v >= 1000 { return String(format: "%.1fk", v / 1000) }
        if v == v.rounded() { return String(Int(v)) }
        return String(format: "%.1f", v)
    }
}
