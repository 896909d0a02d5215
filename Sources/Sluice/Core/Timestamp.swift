import Foundation

/// The one way Sluice writes a wall-clock time that a user or a file reads: ISO-8601 in
/// UTC with milliseconds (`2026-11-29T01:12:12.345Z`) — summaries, the ledger, JSON logs.
public enum Timestamp {
    /// `date` as ISO-8601 UTC with fractional seconds.
    public static func iso8601(_ date: Date) -> String {
        // ISO8601DateFormatter is thread-safe but costly to make; a log line or a ledger
        // step is rare enough that one per call is simpler than sharing one.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Now, as ``iso8601(_:)``.
    public static func now() -> String { iso8601(Date()) }
}
