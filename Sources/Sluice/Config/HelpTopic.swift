import Foundation
import SluiceCore
/// `sluice help TOPIC`: the reference, in the terminal, cut from the same generated pages as
/// `docs/` (``ReferenceDocs``, ``ConfigSchema/markdown``), so help and docs cannot drift.
public enum HelpTopic: String, CaseIterable, Sendable {
    case stages, stage, functions, expressions, tests, outputs, config

    /// One line per topic, for `sluice help`.
    public static var overview: String {
        """
        sluice help stages          every stage kind, in one line each
        sluice help stage NAME      one kind: what it does, an example, its keys
        sluice help functions       the expression functions
        sluice help expressions     the expression language and its null rules
        sluice help tests           the keys of a test case (tests: / NAME.tests.yaml)
        sluice help outputs         output formats, layouts, routes and their keys
        sluice help config          every config key
        sluice help SUBCOMMAND      the options of a subcommand (run, validate, eval, ...)
        """
    }

    /// Why a topic cannot be shown.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The Markdown of `topic` (with `name` for `stage`).
    ///
    /// - Throws: ``Problem`` for an unknown stage name, with the closest kind.
    public static func markdown(_ topic: HelpTopic, name: String? = nil) throws(Problem) -> String {
        switch topic {
        case .stages:
            return sections(of: ReferenceDocs.stages, before: "\n## ")
        case .stage:
            let names = StageRegistry.kinds.map(\.name)
            guard let name, !name.isEmpty else {
                throw Problem(description: "which stage? sluice help stage NAME, NAME one of: \(names.joined(separator: ", "))")
            }
            guard names.contains(name) else {
                var message = "no stage kind '\(name)'"
                if let guess = closestMatch(to: name, in: names) { message += " (did you mean '\(guess)'?)" }
                throw Problem(description: message + "; the kinds: \(names.joined(separator: ", "))")
            }
            return section(of: ReferenceDocs.stages, heading: "## \(name)")
        case .functions:
            return ReferenceDocs.functions
        case .expressions:
            return ReferenceDocs.expressions
        case .tests:
            return section(of: ConfigSchema.markdown, heading: "## `tests[]`")
                + "\nA test file (`NAME.tests.yaml` beside `NAME.yaml`) holds `tests:` with the same keys.\n"
        case .outputs:
            return section(of: ConfigSchema.markdown, heading: "## `output`")
                + section(of: ConfigSchema.markdown, heading: "## `output.routes[]`")
        case .config:
            return ConfigSchema.markdown
        }
    }

    /// The text of `markdown` up to the first `marker` after its title.
    private static func sections(of markdown: String, before marker: String) -> String {
        guard let end = markdown.range(of: marker) else { return markdown }
        return String(markdown[..<end.lowerBound]) + "\n"
    }

    /// One `## ` section of `markdown`, from its heading line to the next heading of that level.
    private static func section(of markdown: String, heading: String) -> String {
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0 == heading }) else { return "" }
        var end = start + 1
        while end < lines.count, !lines[end].hasPrefix("## ") { end += 1 }
        return lines[start..<end].joined(separator: "\n") + "\n"
    }
}

/// Markdown as plain terminal text: headings underlined, paragraphs and bullets wrapped to
/// the width, tables turned into a term and its wrapped meaning, code blocks indented.
/// Only the Markdown the generated docs use (no nesting, no HTML but comments).
public enum TerminalText {
    public static func render(_ markdown: String, width: Int = 80) -> String {
        let width = max(40, width)
        var out: [String] = []
        var paragraph: [String] = []
        var bullet: [String]?
        var table: [[String]] = []
        var inCode = false

        func flushParagraph() {
            if !paragraph.isEmpty { out += wrap(inline(paragraph.joined(separator: " ")), width: width, first: "", rest: "") }
            paragraph = []
        }
        func flushBullet() {
            if let b = bullet { out += wrap(inline(b.joined(separator: " ")), width: width, first: "  • ", rest: "    ") }
            bullet = nil
        }
        func flushTable() {
            guard !table.isEmpty else { return }
            out += renderTable(table, width: width)
            table = []
        }
        func flushAll() { flushParagraph(); flushBullet(); flushTable() }

        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix("```") {
                flushAll()
                inCode.toggle()
                continue
            }
            if inCode { out.append("    " + line); continue }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("<!--") { continue }
            if trimmed.isEmpty {
                flushAll()
                if out.last != "" { out.append("") }
                continue
            }
            if trimmed.hasPrefix("#") {
                flushAll()
                let level = trimmed.prefix { $0 == "#" }.count
                let title = inline(String(trimmed.dropFirst(level)).trimmingCharacters(in: .whitespaces))
                out.append(level == 1 ? title.uppercased() : title)
                out.append(String(repeating: level == 1 ? "=" : "-", count: min(width, title.count)))
                continue
            }
            if trimmed.hasPrefix("|") {
                flushParagraph(); flushBullet()
                let cells = splitRow(trimmed)
                if cells.allSatisfy({ $0.allSatisfy { $0 == "-" || $0 == ":" } && !$0.isEmpty }) { continue }
                table.append(cells)
                continue
            }
            flushTable()
            if trimmed.hasPrefix("- ") {
                flushParagraph(); flushBullet()
                bullet = [String(trimmed.dropFirst(2))]
                continue
            }
            if bullet != nil, line.hasPrefix(" ") { bullet!.append(trimmed); continue }
            flushBullet()
            paragraph.append(trimmed)
        }
        flushAll()
        while out.last == "" { out.removeLast() }
        return out.joined(separator: "\n") + "\n"
    }

    /// A table's rows after the header as "term  detail" entries: the first column is the
    /// term; short middle columns follow it, labelled by their header; the last column is
    /// the meaning, wrapped below.
    private static func renderTable(_ rows: [[String]], width: Int) -> [String] {
        guard let header = rows.first else { return [] }
        var out: [String] = []
        let body = rows.dropFirst()
        if header.count == 2 {
            let termWidth = min(24, body.map { inline($0[0]).count }.max() ?? 0)
            for row in body {
                let term = inline(row[0])
                let pad = String(repeating: " ", count: max(1, termWidth - term.count + 2))
                let lead = "  " + term + pad
                if term.count > termWidth {
                    out.append("  " + term)
                    out += wrap(inline(row.count > 1 ? row[1] : ""), width: width, first: String(repeating: " ", count: termWidth + 4), rest: String(repeating: " ", count: termWidth + 4))
                } else {
                    out += wrap(inline(row.count > 1 ? row[1] : ""), width: width, first: lead, rest: String(repeating: " ", count: lead.count))
                }
            }
            return out
        }
        for row in body {
            var term = inline(row[0])
            var details: [String] = []
            for (i, cell) in row.enumerated() where i > 0 && i < row.count - 1 && !cell.isEmpty {
                let label = inline(header[i]).lowercased()
                details.append(label == "type" || label == "value" ? inline(cell) : "\(label) \(inline(cell))")
            }
            if !details.isEmpty { term += "  (" + details.joined(separator: "; ") + ")" }
            out += wrap(term, width: width, first: "  ", rest: "      ")
            if row.count > 1 { out += wrap(inline(row[row.count - 1]), width: width, first: "      ", rest: "      ") }
        }
        return out
    }

    private static func splitRow(_ line: String) -> [String] {
        var cells: [String] = []
        var current = ""
        var escaped = false
        for c in line.dropFirst() {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "|" { cells.append(current.trimmingCharacters(in: .whitespaces)); current = ""; continue }
            current.append(c)
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { cells.append(current.trimmingCharacters(in: .whitespaces)) }
        return cells
    }

    /// Inline Markdown to text: links to their text, emphasis and HTML entities removed;
    /// code spans keep their text.
    static func inline(_ text: String) -> String {
        var s = text
        // [text](target) → text
        while let open = s.range(of: "]("), let start = s[..<open.lowerBound].lastIndex(of: "["),
              let close = s[open.upperBound...].firstIndex(of: ")") {
            let label = s[s.index(after: start)..<open.lowerBound]
            s.replaceSubrange(start...close, with: label)
        }
        s = s.replacingOccurrences(of: "**", with: "")
        s = s.replacingOccurrences(of: "`", with: "")
        s = s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        if s.hasPrefix("*"), s.hasSuffix("*"), s.count > 2 { s = String(s.dropFirst().dropLast()) }
        return s
    }

    /// Words of `text` in lines of at most `width` characters (a longer word gets a line
    /// of its own), the first line led by `first`, the others by `rest`.
    static func wrap(_ text: String, width: Int, first: String, rest: String) -> [String] {
        var lines: [String] = []
        var line = first
        var empty = true
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !empty, line.count + 1 + word.count > width {
                lines.append(line)
                line = rest
                empty = true
            }
            line += (empty ? "" : " ") + word
            empty = false
        }
        if !empty || lines.isEmpty { lines.append(line) }
        return lines
    }
}
