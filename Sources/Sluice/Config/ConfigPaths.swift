import Foundation
import SluiceIO

/// One rule for relative paths (README "Paths"): a path written in a config file resolves
/// against the directory of that file, so a config runs the same from any working
/// directory (cron starts jobs in `$HOME` or `/`); a path given on the command line
/// (`--input`, `--output`, `--summary`, `--set input.path=…`) resolves against the
/// working directory, as every command-line tool's does.
///
/// Applies to `input.path`, `output.path`, and the `move:` directories of
/// `input.on_success` / `input.on_failure`; `lookup.file` follows the same rule where
/// its stage is built; `errors.path` is relative to the output directory.
extension PipelineConfig {
    /// The config with its relative paths made absolute against `directory`, except the
    /// keys in `commandLine` (set by `--set`), which stay relative to the working directory.
    func resolvingPaths(against directory: String, commandLine: Set<String>) -> PipelineConfig {
        var config = self
        func resolve(_ path: String) -> String {
            guard !path.hasPrefix("/"), !path.isEmpty else { return path }
            return URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
        }
        // `input.path: -` is standard input, not a file named `-`.
        if !commandLine.contains("input.path") && config.input.path != StandardInput.path { config.input.path = resolve(config.input.path) }
        if !commandLine.contains("output.path") { config.output.path = resolve(config.output.path) }
        if case .move(let target) = config.input.incremental.onSuccess, !commandLine.contains("input.on_success") {
            config.input.incremental.onSuccess = .move(resolve(target))
        }
        if case .move(let target) = config.input.incremental.onFailure, !commandLine.contains("input.on_failure") {
            config.input.incremental.onFailure = .move(resolve(target))
        }
        return config
    }

    /// The keys `--set KEY=VALUE` overrides name (`input.path`, `input.on_success`, …).
    static func overriddenKeys(_ overrides: [String]) -> Set<String> {
        Set(overrides.compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) }.flatMap { key in
            // `--set input.on_success.move=DIR` overrides input.on_success too.
            let parts = key.split(separator: ".").map(String.init)
            return parts.indices.map { parts[...$0].joined(separator: ".") }
        })
    }
}
