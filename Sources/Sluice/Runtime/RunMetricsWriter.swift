import Logging

/// Rewrites the `--metrics-file` (Prometheus text) during and at the end of a run; a
/// failure to write is a warning, never a failed run.
struct RunMetricsWriter: Sendable {
    let pipeline: String
    let logger: Logger

    func write(_ path: String, _ snapshot: MetricsSnapshot) {
        do {
            try PrometheusText.write(PrometheusText.render(snapshot), to: path)
        } catch {
            logger.warning("cannot write metrics file", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
