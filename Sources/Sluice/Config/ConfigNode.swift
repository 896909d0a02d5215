import Foundation
import Yams
import SluiceCore
import SluiceStages

/// Collects config problems while a config is read, so that one pass reports them all.
public final class ConfigDiagnostics: @unchecked Sendable {
    public let file: String
    public private(set) var problems: [ConfigProblem] = []

    public init(file: String) {
        self.file = file
    }

    /// `--set` arguments by the key path they replaced (`stages[1].workers`): a problem
    /// inside a replaced value names the argument, not the file place it replaced.
    var overridden: [(path: String, argument: String)] = []

    func report(_ message: String, at mark: Mark?) {
        report(message, line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    func report(_ message: String, line: Int, column: Int) {
        if let argument = overrideArgument(for: message) {
            problems.append(ConfigProblem(file: "--set \(argument)", line: 0, column: 0, message: message))
            return
        }
        problems.append(ConfigProblem(file: file, line: line, column: column, message: message))
    }

    /// The `--set` argument whose key path starts the message (`stages[1].workers: ...`).
    private func overrideArgument(for message: String) -> String? {
        overridden.last { entry in
            message.hasPrefix(entry.path + ":") || message.hasPrefix(entry.path + ".") || message.hasPrefix(entry.path + "[")
        }?.argument
    }
}

/// A YAML node with its dotted key path, and typed readers that report problems with
/// line and column instead of throwing at the first one.
///
/// Every reader returns nil (and records a problem) when the value has the wrong type,
/// so the caller can go on and find the next problem.
public struct ConfigNode {
    let node: Yams.Node
    /// Where this node sits, for messages: `stages[1].workers`.
    public let path: String
    let diagnostics: ConfigDiagnostics

    init(node: Yams.Node, path: String, diagnostics: ConfigDiagnostics) {
        self.node = node
        self.path = path
        self.diagnostics = diagnostics
    }

    var mark: Mark? { node.mark }

    /// Records a problem at this node.
    public func report(_ message: String) {
        diagnostics.report(path.isEmpty ? "the config: \(message)" : "\(path): \(message)", at: mark)
    }

    /// Records a problem at a column inside this scalar (for expression errors).
    public func report(_ message: String, columnInValue column: Int) {
        var col = (mark?.column ?? 0)
        if let scalar = node.scalar, scalar.style == .singleQuoted || scalar.style == .doubleQuoted {
            col += 1
        }
        diagnostics.report("\(path): \(message)", line: mark?.line ?? 0, column: col + max(0, column - 1))
    }

    private func typeName(_ node: Yams.Node) -> String {
        switch node {
        case .scalar(let s): return s.string.isEmpty || s.tag == Tag(.null) ? "null" : "scalar '\(s.string)'"
        case .mapping: return "mapping"
        case .sequence: return "list"
        case .alias: return "alias"
        }
    }

    /// True for a YAML null (`~`, `null` or empty).
    public var isNull: Bool {
        if case .scalar(let s) = node { return s.tag == Tag(.null) || (s.string.isEmpty && s.style == .plain) }
        return false
    }

    /// The mapping's entries, reporting unknown keys (with a suggestion) and duplicates.
    /// - Parameter quiet: read without reporting (for a second look at a node).
    public func mapping(allowed: [String], quiet: Bool = false) -> [String: ConfigNode]? {
        let diagnostics = quiet ? ConfigDiagnostics(file: "") : self.diagnostics
        guard case .mapping(let mapping) = node else {
            if !quiet {
                report(path.isEmpty
                       ? "expected a mapping of keys (name:, input:, stages:, output:, ...), got \(typeName(node))"
                       : "expected a mapping, got \(typeName(node))")
            }
            return nil
        }
        var result: [String: ConfigNode] = [:]
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else {
                diagnostics.report("\(path): keys must be plain strings", at: keyNode.mark)
                continue
            }
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            if !allowed.contains(key) {
                var message = "\(childPath): unknown key '\(key)'"
                if let suggestion = closestMatch(to: key, in: allowed) {
                    message += " (did you mean '\(suggestion)'?)"
                } else if let place = ConfigSchema.place(of: key, outside: path) {
                    message += " (did you mean '\(place)'? '\(key)' belongs under '\(place.split(separator: ".").dropLast().joined(separator: "."))'; check its indentation)"
                }
                diagnostics.report(message, at: keyNode.mark)
                continue
            }
            if result[key] != nil {
                diagnostics.report("\(childPath): duplicate key '\(key)'", at: keyNode.mark)
                continue
            }
            result[key] = ConfigNode(node: valueNode, path: childPath, diagnostics: diagnostics)
        }
        return result
    }

    /// The mapping's entries in document order, keys unchecked (for user-named keys).
    public func orderedMapping() -> [(key: String, value: ConfigNode, keyNode: ConfigNode)]? {
        guard case .mapping(let mapping) = node else {
            report("expected a mapping, got \(typeName(node))")
            return nil
        }
        var result: [(key: String, value: ConfigNode, keyNode: ConfigNode)] = []
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else {
                diagnostics.report("\(path): keys must be plain strings", at: keyNode.mark)
                continue
            }
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            if !seen.insert(key).inserted {
                diagnostics.report("\(childPath): duplicate key '\(key)'", at: keyNode.mark)
                continue
            }
            result.append((key, ConfigNode(node: valueNode, path: childPath, diagnostics: diagnostics),
                           ConfigNode(node: keyNode, path: childPath, diagnostics: diagnostics)))
        }
        return result
    }

    public func sequence() -> [ConfigNode]? {
        guard case .sequence(let seq) = node else {
            report("expected a list, got \(typeName(node))")
            return nil
        }
        return seq.enumerated().map { ConfigNode(node: $1, path: "\(path)[\($0)]", diagnostics: diagnostics) }
    }

    public func string() -> String? {
        guard case .scalar(let s) = node, !isNull else {
            report("expected a string, got \(typeName(node))")
            return nil
        }
        return s.string
    }

    public func int(in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let s) = node, let value = Int(s.string.replacingOccurrences(of: "_", with: "")) else {
            report("expected an integer, got \(typeName(node))")
            return nil
        }
        if s.style == .singleQuoted || s.style == .doubleQuoted {
            report("expected an integer, got the string \"\(s.string)\" (write it without quotes)")
            return nil
        }
        guard range.contains(value) else {
            report("\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return value
    }

    public func double(in range: ClosedRange<Double>) -> Double? {
        guard case .scalar(let s) = node, let value = Double(s.string) else {
            report("expected a number, got \(typeName(node))")
            return nil
        }
        if s.style == .singleQuoted || s.style == .doubleQuoted {
            report("expected a number, got the string \"\(s.string)\" (write it without quotes)")
            return nil
        }
        guard range.contains(value) else {
            report("\(s.string) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return value
    }

    public func bool() -> Bool? {
        guard case .scalar(let s) = node else {
            report("expected true or false, got \(typeName(node))")
            return nil
        }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report("expected true or false, got '\(s.string)'")
            return nil
        }
    }

    /// A string that must be one of `choices`.
    public func choice(_ choices: [String]) -> String? {
        guard let value = string() else { return nil }
        guard choices.contains(value) else {
            var message = "'\(value)' is not one of \(choices.joined(separator: ", "))"
            if let suggestion = closestMatch(to: value, in: choices) { message += " (did you mean '\(suggestion)'?)" }
            report(message)
            return nil
        }
        return value
    }

    /// A list of strings; a single string is taken as a list of one.
    public func stringList() -> [String]? {
        if case .scalar = node, !isNull { return string().map { [$0] } }
        guard let items = sequence() else { return nil }
        let strings = items.compactMap { $0.string() }
        return strings.count == items.count ? strings : nil
    }

    /// A size in bytes: an integer, or a number with a unit (`16MiB`, `512KB`, `1GiB`).
    public func byteSize(in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let s) = node else {
            report("expected a size such as 16MiB, got \(typeName(node))")
            return nil
        }
        guard let value = parseByteSize(s.string) else {
            report("expected a size such as 16MiB or 1048576, got '\(s.string)'")
            return nil
        }
        guard range.contains(value) else {
            report("\(s.string) is out of range \(range.lowerBound)...\(range.upperBound) bytes")
            return nil
        }
        return value
    }
}

extension ConfigNode {
    /// A duration: `500ms`, `2s`, `1.5s`, `5m`, `1h`, `1d` (a bare number is seconds).
    public func duration(in range: ClosedRange<Duration>) -> Duration? {
        guard case .scalar(let s) = node, !isNull else {
            report("expected a duration such as 500ms, 2s, 5m or 1h, got \(typeName(node))")
            return nil
        }
        guard let value = parseDurationValue(s.string) else {
            report(durationProblem(s.string))
            return nil
        }
        guard range.contains(value) else {
            report("\(s.string) is out of range \(formatDuration(range.lowerBound))...\(formatDuration(range.upperBound))")
            return nil
        }
        return value
    }
}

/// Why `text` is not a duration, in words that say what to write.
public func durationProblem(_ text: String) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if !trimmed.isEmpty, Double(trimmed) != nil {
        return "'\(trimmed)' has no unit: write \(trimmed)s (or \(trimmed)ms, \(trimmed)m, \(trimmed)h)"
    }
    return "expected a duration such as 500ms, 2s, 5m or 1h, got '\(text)'"
}

/// A duration from the text that ``parseDuration(_:)`` reads (one parser for every
/// duration in configs and flags).
func parseDurationValue(_ text: String) -> Duration? {
    guard let seconds = parseDuration(text), seconds < 1e12 else { return nil }
    return .milliseconds(Int64((seconds * 1000).rounded()))
}

/// Parses `1048576`, `512KB`, `16MiB`, `1 GiB` (KB/MB/GB are decimal, KiB/MiB/GiB binary).
func parseByteSize(_ text: String) -> Int? {
    let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
    let digits = trimmed.prefix { $0.isNumber }
    guard let number = Int(digits) else { return nil }
    let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
    let multipliers: [String: Int] = ["": 1, "b": 1, "kb": 1000, "mb": 1_000_000, "gb": 1_000_000_000,
                                      "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
    guard let multiplier = multipliers[unit] else { return nil }
    let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
    return overflow ? nil : product
}
