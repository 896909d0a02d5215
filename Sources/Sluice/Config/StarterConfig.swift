import Foundation
import SluiceCore
import SluiceIO

/// Writes a commented starter config for a data directory (`sluice init DIR`).
///
/// It scans the directory the way a run does, reads the first records of a few files
/// (gzip or plain) to learn the format and the field paths that occur, and writes a
/// config that runs as is (every record passes through) with commented-out stages that
/// use the fields it saw, so that editing starts from real names.
public enum StarterConfig {
    /// What sniffing a directory found.
    public struct Findings: Sendable, Equatable {
        /// File name patterns (`**/*.ndjson.gz`) with how many files match each.
        public var patterns: [(pattern: String, count: Int)]
        /// The format to configure (`auto` when the directory mixes formats).
        public var format: String
        /// Field paths seen in sampled records, most frequent first, with their JSON kinds.
        public var fields: [(path: String, kind: String, count: Int)]
        /// Records sampled.
        public var sampled: Int
        /// How many of the sampled records held each field as `null` (fields never null
        /// are absent): a field's `kind` is that of its non-null values.
        public var nulls: [String: Int] = [:]
        /// For XML files: element names found at depth 2 (`/ROOT/NAME`), the candidates
        /// for `input.xml.record`, most frequent first.
        public var xmlRecords: [(name: String, count: Int)] = []

        public static func == (a: Findings, b: Findings) -> Bool {
            a.patterns.map(\.pattern) == b.patterns.map(\.pattern) && a.format == b.format
                && a.fields.map(\.path) == b.fields.map(\.path) && a.sampled == b.sampled
        }
    }

    /// Scans `directory` and samples up to `sampleFiles` files of every file pattern
    /// found (spread over each pattern's files, not the first ones by path),
    /// `sampleRecords` records each. The format is decided by the content of the sampled
    /// files (NDJSON stored as `.json.gz` is NDJSON), not by their names.
    public static func sniff(directory: String, sampleFiles: Int = 5, sampleRecords: Int = 200) throws -> Findings {
        let files = try DirectoryScanner(root: directory).scan().filter { $0.problem == nil && isDataFile($0.relativePath) }
        var patterns: [String: Int] = [:]
        var byPattern: [String: [InputFile]] = [:]
        for file in files {
            let name = pattern(for: file.relativePath)
            patterns[name, default: 0] += 1
            byPattern[name, default: []].append(file)
        }
        var sample: [InputFile] = []
        for name in byPattern.keys.sorted() {
            let group = byPattern[name]!
            let count = min(sampleFiles, group.count)
            // Evenly spaced, first and last included.
            let picks = count <= 1 ? [0] : (0..<count).map { $0 * (group.count - 1) / (count - 1) }
            sample += Set(picks).sorted().map { group[$0] }
        }
        var formats: Set<String> = []
        var fieldCounts: [String: (kind: String, count: Int, first: Int)] = [:]
        var nullCounts: [String: Int] = [:]
        var sampled = 0
        var order = 0
        var xmlNames: [String: Int] = [:]
        for file in sample {
            guard let content = contentFormat(of: file) else { continue }
            var batches: [Batch] = []
            let options = ReadOptions(format: .auto, batchSize: sampleRecords)
            _ = FileReader.read(file, fileIndex: 0, options: options) { batch in
                batches.append(batch)
                throw CancellationError()   // one batch is enough
            }
            formats.insert(content)
            guard var batch = batches.first else { continue }
            for i in batch.records.indices {
                guard (try? batch.indexRecord(at: i, maxDepth: 512)) != nil else { continue }
                sampled += 1
                let root = Int(batch.records[i].tapeStart)
                batch.withView { view in
                    if let name = view.member(of: root, key: Array("#name".utf8)).flatMap(view.string) {
                        xmlNames[name, default: 0] += 1
                    }
                    collect(view, node: root, prefix: "", depth: 0) { path, kind in
                        guard path != "#name" else { return }
                        let seen = fieldCounts[path]
                        if kind == "null" { nullCounts[path, default: 0] += 1 }
                        // The kind of the values, not of a null that came first.
                        let known = seen.map { $0.kind == "null" ? kind : $0.kind } ?? kind
                        fieldCounts[path] = (known, (seen?.count ?? 0) + 1, seen?.first ?? order)
                        order += 1
                    }
                }
            }
        }
        let fields = fieldCounts.map { (path: $0.key, kind: $0.value.kind, count: $0.value.count, first: $0.value.first) }
            .sorted { ($0.count, -$0.first) > ($1.count, -$1.first) }
            .map { (path: $0.path, kind: $0.kind, count: $0.count) }
        var found = Findings(
            patterns: patterns.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { (pattern: $0.key, count: $0.value) },
            format: formats.count == 1 ? formats.first! : "auto", fields: fields, sampled: sampled)
        found.nulls = nullCounts
        found.xmlRecords = xmlNames.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { (name: $0.key, count: $0.value) }
        return found
    }

    /// The format a run should be told for `file`, from its first bytes (gunzipped):
    /// `ndjson`, `json` (an array or one document) or `xml`; nil when it cannot be read
    /// or is empty.
    static func contentFormat(of file: InputFile) -> String? {
        guard let input = try? DecodedInput(path: file.path, chunkSize: 64 << 10) else { return nil }
        defer { input.stopInflatingAhead() }
        var head: [UInt8] = []
        var isComplete = false
        while true {
            let bom = FormatSniffer.bomLength(head, isComplete: isComplete) ?? 0
            if let framing = FormatSniffer.framing(forHead: head[bom...], format: .auto, isComplete: isComplete, lineLimit: 1 << 20) {
                if head.count <= bom { return nil }
                switch framing {
                case .ndjson: return "ndjson"
                case .jsonArray, .jsonDocument: return "json"
                case .xml: return "xml"
                }
            }
            if isComplete { return nil }
            do {
                if let chunk = try input.next() { head.append(contentsOf: chunk) } else { isComplete = true }
            } catch {
                return nil
            }
            if head.count > 1 << 20 { isComplete = true }
        }
    }

    /// The starter config text for `directory`. `inputPath` and `output` are written as
    /// given: relative to the directory the config will be saved in, or absolute
    /// (README "Paths"); `inputPath` defaults to `directory`.
    public static func make(directory: String, name: String, output: String, inputPath: String? = nil) throws -> String {
        let found = try sniff(directory: directory)
        let paths = found.fields.map(\.path)
        // Fields in at least 90 % of the sample are likely required.
        let common = found.fields.filter { $0.count * 10 >= found.sampled * 9 && !$0.path.contains(".") && !$0.path.contains("[") }
        let required = common.prefix(3).map(\.path)
        let typed = common.filter { $0.kind != "null" }.prefix(3)
        var lines: [String] = []
        lines.append("# Starter config written by `sluice init \(directory)`.")
        lines.append("# It runs as is (every record passes through); uncomment and edit the stages.")
        lines.append("# Check it with `sluice validate`, see its plan with `sluice explain`.")
        lines.append("name: \(name)")
        lines.append("input:")
        lines.append("  path: \(yamlString(inputPath ?? directory))        # relative to this file")
        if found.patterns.isEmpty {
            lines.append("  include: [\"**/*\"]                # no files found yet")
        } else {
            lines.append("  include: [\(found.patterns.map { yamlString($0.pattern) }.joined(separator: ", "))]")
            lines.append("  # files: " + found.patterns.map { "\($0.pattern) ×\($0.count)" }.joined(separator: ", "))
        }
        lines.append("  format: \(found.format)                 # auto | ndjson | json | xml")
        if let first = found.xmlRecords.first {
            lines.append("  xml:")
            lines.append("    record: \(first.name)                # candidates: " + found.xmlRecords.prefix(6).map { "\($0.name) ×\($0.count)" }.joined(separator: ", "))
        }
        lines.append("  readers: \(ConfigSchema.Input.readers.defaultValue!)")
        lines.append("batch_size: \(ConfigSchema.Top.batchSize.defaultValue!)")
        lines.append("defaults: { workers: \(ConfigSchema.Defaults.workers.defaultValue!), queue: \(ConfigSchema.Defaults.queue.defaultValue!) }")
        lines.append("# Fields seen in \(found.sampled) sampled records (path: kind, share of records that have it; null in how many):")
        for field in found.fields.prefix(40) {
            let share = found.sampled == 0 ? 0 : field.count * 100 / found.sampled
            let nulls = found.nulls[field.path] ?? 0
            let nullNote = nulls == 0 ? "" : ", null in \(max(1, nulls * 100 / max(1, found.sampled)))%"
            lines.append("#   \(field.path): \(field.kind), \(share)%\(nullNote)")
        }
        lines.append("stages:")
        let probe = paths.first { !$0.contains(".") } ?? "id"
        lines.append("  - name: keep")
        lines.append("    filter: 'true'                   # e.g. '\(probe) != null'")
        if !required.isEmpty {
            lines.append("  # - name: check")
            let types = typed.map { "\(yamlName($0.path)): \(validateType($0.kind))" }.joined(separator: ", ")
            lines.append("  #   validate: { required: [\(required.map(yamlName).joined(separator: ", "))], types: { \(types) } }")
        }
        let nested = paths.filter { $0.contains(".") && !$0.contains("[") }.prefix(3)
        if !paths.isEmpty {
            lines.append("  # - name: shape")
            lines.append("  #   select:")
            for path in paths.filter({ !$0.contains(".") }).prefix(4) { lines.append("  #     \(outputKey(path)): \(yamlName(path))") }
            for path in nested { lines.append("  #     \(outputKey(path)): \(yamlName(path))") }
        }
        lines.append("output: { path: \(yamlString(output)), format: ndjson, compression: gzip, level: 6, layout: merged }")
        lines += parquetAlternative(found, output: output)
        lines.append("errors: { path: errors.ndjson, max_error_rate: 0.05 }   # relative to output.path")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The same output as typed Parquet columns, commented out: one column per scalar
    /// field seen (top-level or one level down, not inside arrays), typed from the sample,
    /// nullable unless every sampled record had it non-null.
    static func parquetAlternative(_ found: Findings, output: String) -> [String] {
        let columns = found.fields.compactMap { field -> String? in
            guard !field.path.contains("["), field.path.split(separator: ".").count <= 2 else { return nil }
            let type: String
            switch field.kind {
            case "int": type = "int64"
            case "number": type = "double"
            case "string": type = "string"
            case "bool": type = "bool"
            default: return nil
            }
            let name = outputKey(field.path)
            var column = "{ name: \(name), type: \(type)"
            if name != field.path { column += ", path: \(yamlName(field.path))" }
            if field.count == found.sampled, found.nulls[field.path] == nil { column += ", nullable: false" }
            return column + " }"
        }.prefix(16)
        guard !columns.isEmpty else { return [] }
        var lines = ["# Or typed columns that DuckDB, Polars and PyArrow read (README \"Parquet\"); a value",
                     "# that does not fit its column is an error line naming it:",
                     "# output:",
                     "#   path: \(yamlString(output))",
                     "#   format: parquet",
                     "#   parquet:",
                     "#     compression: zstd",
                     "#     schema:"]
        lines += columns.map { "#       - \($0)" }
        return lines
    }

    /// `**/*.ndjson.gz` for `a/b/x.ndjson.gz`; `*.json` at the top level.
    static func pattern(for relativePath: String) -> String {
        let name = relativePath.split(separator: "/").last.map(String.init) ?? relativePath
        var ext = ""
        if let dot = name.firstIndex(of: "."), dot != name.startIndex { ext = String(name[dot...]) }
        if ext.count > 16 || ext.isEmpty { ext = name.contains(".") ? "." + (name.split(separator: ".").last ?? "") : "" }
        return "**/*" + ext
    }

    /// Files a run can read: JSON, NDJSON and XML, gzipped or not.
    static func isDataFile(_ path: String) -> Bool {
        var name = path.lowercased()
        name = Codecs.strippingSuffix(name)
        return [".json", ".ndjson", ".jsonl", ".ldjson", ".xml", ".osm", ".nxml"].contains { name.hasSuffix($0) }
    }

    private static func formatName(for path: String) -> String {
        var name = path.lowercased()
        name = Codecs.strippingSuffix(name)
        if name.hasSuffix(".ndjson") || name.hasSuffix(".jsonl") || name.hasSuffix(".ldjson") { return "ndjson" }
        if name.hasSuffix(".json") { return "json" }
        if name.hasSuffix(".xml") || name.hasSuffix(".osm") || name.hasSuffix(".nxml") { return "xml" }
        return "auto"
    }

    private static func validateType(_ kind: String) -> String {
        switch kind {
        case "integer": return "int"
        case "boolean": return "bool"
        default: return kind
        }
    }

    private static func collect(_ view: JSONView, node: Int, prefix: String, depth: Int, _ visit: (String, String) -> Void) {
        for (key, value) in view.members(of: node) {
            let name = view.string(key) ?? "?"
            let simple = !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "@" || $0 == "#" }
            let path = prefix.isEmpty ? (simple ? name : "[\"\(name)\"]") : (simple ? "\(prefix).\(name)" : "\(prefix)[\"\(name)\"]")
            let kind = kindName(view, value)
            visit(path, kind)
            if kind == "object" && depth < 2 {
                collect(view, node: value, prefix: path, depth: depth + 1, visit)
            } else if kind == "array", let first = view.element(of: value, at: 0), view.kind(first) == .object, depth < 2 {
                collect(view, node: first, prefix: path + "[0]", depth: depth + 1, visit)
            }
        }
    }

    private static func kindName(_ view: JSONView, _ node: Int) -> String {
        switch view.kind(node) {
        case .null: return "null"
        case .true, .false: return "bool"
        case .number: return view.tape[node].flags & TapeEntry.isInteger != 0 ? "int" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// A field path as a YAML scalar: quoted when YAML would read it otherwise (`@id`, `#text`).
    private static func yamlName(_ path: String) -> String {
        guard let first = path.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else { return "'\(path)'" }
        return path
    }

    /// An output key for a field path: `customer.@id` → `customer_id`.
    private static func outputKey(_ path: String) -> String {
        let key = path.replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "@", with: "").replacingOccurrences(of: "#", with: "")
        return key.isEmpty ? "field" : key
    }

    private static func yamlString(_ text: String) -> String {
        var writer = JSONWriter()
        writer.write(text)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
