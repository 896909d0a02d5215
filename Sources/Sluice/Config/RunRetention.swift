import Yams

/// `output.keep_runs`: how many past runs' summaries and error reports stay in the output
/// directory — the newest N runs (`10`), or the runs younger than a duration (`30d`).
public enum RunRetention: Sendable, Equatable {
    /// Keep the newest this many runs (the run that prunes counts as one).
    case count(Int)
    /// Keep the runs that started less than this many seconds ago.
    case age(Double)

    /// Reads the key, reporting a bad value at its line; nil after a problem.
    init?(_ node: ConfigNode) {
        guard case .scalar(let scalar) = node.node, !node.isNull else {
            node.report("expected a number of runs (e.g. 10) or a duration (e.g. 30d)")
            return nil
        }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        if let n = Int(text) {
            guard n >= 1 else {
                node.report("expected at least 1 run, got \(n) (leave keep_runs out to keep every run)")
                return nil
            }
            self = .count(n)
        } else if let seconds = parseDuration(text), seconds > 0 {
            self = .age(seconds)
        } else {
            node.report("expected a number of runs (e.g. 10) or a duration (e.g. 30d), got '\(text)'")
            return nil
        }
    }
}
