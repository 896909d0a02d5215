import Foundation
import SluiceCore

/// Runs each record through a program of your own, in any language: every worker of the
/// stage keeps one long-lived child process fed with batches of NDJSON.
///
/// Protocol: for each batch the stage writes the records to the worker's stdin, one
/// compact JSON object per line, and reads exactly one line per record from its stdout,
/// in the same order:
/// - a JSON object: the new record (it replaces the input record);
/// - `null`: drop the record (counted as filtered, not an error);
/// - `{"$error": "message"}`: fail the record (error line of kind `transform` with that
///   message).
/// Anything else (invalid JSON, an array, a number, a blank line, more lines than
/// records) is a protocol fault. The worker's stderr goes to the log with the stage name.
///
/// Faults: a worker that does not answer a batch within `timeout`, exits, or breaks the
/// protocol is killed (SIGTERM to its process group, SIGKILL 200 ms later) and replaced.
/// The answers it gave before the fault are kept; the rest of the batch is then retried
/// record by record in a fresh worker, so only a record that really hangs (kind
/// `timeout`), crashes its worker or gets a garbled answer (kind `transform`) lands in
/// the error report, each on its own line, and every other record comes through, in
/// order. Every replacement counts as a restart; one more than `max_restarts` in a run
/// stops the run (exit 1) with a message naming the stage and the last fault.
///
/// ```yaml
/// - name: enrich
///   command: [python3, fixtures/scripts/enrich.py]     # short form: just the argv
/// - name: enrich
///   command:
///     run: [python3, enrich.py]
///     timeout: 10s          # per batch (default 30s)
///     max_restarts: 3       # per run (default 10)
///     env: { LANG: C.UTF-8 }
///     cwd: fixtures/scripts
///     stop_grace: 2s        # at the end: EOF, then SIGTERM after this long (default 5s)
///   workers: 4              # processes at most
/// ```
public struct CommandStage: Stage {
    /// Configuration of `command`.
    public struct Config: Sendable, Equatable {
        /// The program and its arguments (`[python3, enrich.py]`); the program is looked
        /// up in `PATH` unless it contains a `/`. Never split from a string: use
        /// `[sh, -c, "..."]` for a shell command.
        public var argv: [String]
        /// How long a worker may take to answer a whole batch (default 30s, ``Keys/timeout``).
        public var timeout: Duration
        /// Worker replacements allowed per run before the run fails (default 10).
        public var maxRestarts: Int
        /// Variables added to (or replacing those of) the inherited environment.
        public var environment: [String: String]
        /// The workers' working directory (default: Sluice's); relative program paths
        /// resolve against it.
        public var workingDirectory: String?
        /// At the end of a run, how long workers have to exit after EOF on stdin before
        /// SIGTERM (and SIGKILL one second later) (default 5s).
        public var stopGrace: Duration

        public init(argv: [String], timeout: Duration = Keys.timeout.defaultValue!, maxRestarts: Int = Keys.maxRestarts.defaultValue!,
                    environment: [String: String] = [:], workingDirectory: String? = nil,
                    stopGrace: Duration = Keys.stopGrace.defaultValue!) {
            self.argv = argv
            self.timeout = timeout
            self.maxRestarts = maxRestarts
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.stopGrace = stopGrace
        }
    }

    public static let kind = "command"
    /// Nesting limit of answers (the default `input.max_depth`); deeper is garbage.
    static let maxAnswerDepth = 512
    /// How long a faulty worker has between SIGTERM and SIGKILL.
    static let killGrace = 0.2

    public let config: Config
    /// `KEY=value` strings: the inherited environment with `env` applied.
    let environment: [String]
    let pool = CommandWorkerPool()

    /// Builds the stage.
    ///
    /// - Throws: ``StageConfigError`` for an empty argv or an empty program, a NUL byte
    ///   in an argument, or an environment name that is empty or holds `=`.
    public static func make(config: Config) throws(StageConfigError) -> CommandStage {
        var problems: [StageConfigProblem] = []
        if config.argv.first?.isEmpty ?? true {
            problems.append(StageConfigProblem(keyPath: [kind, "run"], message: "needs a program to run, e.g. [python3, enrich.py]"))
        }
        if config.argv.contains(where: { $0.utf8.contains(0) }) {
            problems.append(StageConfigProblem(keyPath: [kind, "run"], message: "an argument holds a NUL byte"))
        }
        for name in config.environment.keys.sorted() where name.isEmpty || name.contains("=") || name.utf8.contains(0) {
            problems.append(StageConfigProblem(keyPath: [kind, "env"], message: "'\(name)' is not a valid environment variable name"))
        }
        guard problems.isEmpty else { throw StageConfigError(problems: problems) }
        var variables = ProcessInfo.processInfo.environment
        variables.merge(config.environment) { _, new in new }
        let environment = variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return CommandStage(config: config, environment: environment)
    }

    /// Processes of this stage started so far (for tests: each must be reaped).
    var spawnedProcessIDs: [pid_t] { pool.spawned }

    public func finish(context: StageContext) {
        pool.finish(control: context.control, grace: config.stopGrace.seconds)
    }

    public func process(_ batch: inout Batch, context: StageContext) {
        let count = batch.records.count
        guard count > 0 else { return }
        var session = CommandSession(stage: self, context: context)
        defer { session.release() }
        let source = batch
        var output = Batch(file: batch.file, index: batch.index)
        output.bytes.reserveCapacity(source.bytes.count + count)
        output.records.reserveCapacity(count)
        output.errors = batch.errors
        output.filtered = batch.filtered
        output.recordsIn = batch.recordsIn
        var next = 0
        defer { batch = output }

        func failRest(_ message: String, kind: ErrorKind = .transform) {
            for slot in source.records[next...] {
                output.errors.append(context.recordError(kind, message, batch: source, slot: slot))
            }
            next = count
        }

        // The whole batch in one exchange; after a fault, record by record.
        var oneByOne = false
        while next < count && !oneByOne {
            guard let child = session.acquire() else { return failRest(session.failure) }
            let exchange = child.exchange(input: encode(source, next..<count), expecting: count - next,
                                          deadline: monotonicSeconds() + config.timeout.seconds, control: context.control)
            if case .idleFault(let reason) = exchange.end {
                session.fault(reason)
                continue
            }
            if exchange.end != .extraOutput {
                let accepted = accept(exchange, first: next, source: source, into: &output, context: context)
                next += accepted.count
                if let garbage = accepted.garbage {
                    session.fault(garbage)
                    oneByOne = true
                    continue
                }
            }
            switch exchange.end {
            case .complete:
                break
            case .extraOutput:
                session.fault("the worker wrote more lines than it was sent records")
                oneByOne = true
            case .timedOut:
                session.fault("no answer to a batch within \(formatDuration(config.timeout))")
                oneByOne = true
            case .exited:
                let how = session.reapExited()
                session.fault("the worker \(how.description)\(how.stderrNote)")
                oneByOne = true
            case .lineTooLong:
                session.fault("an answer line longer than \(ChildProcess.maxLineBytes) bytes")
                oneByOne = true
            case .cancelled:
                session.abandon()
                return failRest("the run stopped before the worker answered")
            case .idleFault:
                break
            }
        }

        while next < count {
            guard let child = session.acquire() else { return failRest(session.failure) }
            let exchange = child.exchange(input: encode(source, next..<(next + 1)), expecting: 1,
                                          deadline: monotonicSeconds() + config.timeout.seconds, control: context.control)
            let slot = source.records[next]
            func fail(_ kind: ErrorKind, _ message: String) {
                output.errors.append(context.recordError(kind, message, batch: source, slot: slot))
                next += 1
            }
            switch exchange.end {
            case .complete:
                let accepted = accept(exchange, first: next, source: source, into: &output, context: context)
                if let garbage = accepted.garbage {
                    fail(.transform, garbage)
                    session.fault(garbage)
                } else {
                    next += 1
                }
            case .extraOutput:
                fail(.transform, "the worker answered this record with more than one line")
                session.fault("the worker answered a record with more than one line")
            case .timedOut:
                let message = "no answer within \(formatDuration(config.timeout)); the worker was killed"
                fail(.timeout, message)
                session.fault(message)
            case .exited:
                let how = session.reapExited()
                fail(.transform, "the worker \(how.description) while processing this record\(how.stderrNote)")
                session.fault("the worker \(how.description)\(how.stderrNote)")
            case .lineTooLong:
                let message = "the worker's answer is longer than \(ChildProcess.maxLineBytes) bytes"
                fail(.transform, message)
                session.fault(message)
            case .idleFault(let reason):
                session.fault(reason)
            case .cancelled:
                session.abandon()
                return failRest("the run stopped before the worker answered")
            }
        }
    }

    /// The records `range` of `batch` as NDJSON lines (multi-line records compacted).
    private func encode(_ batch: Batch, _ range: Range<Int>) -> [UInt8] {
        var text: [UInt8] = []
        let slots = batch.records[range]
        text.reserveCapacity((slots.last.map { $0.end } ?? 0) - (slots.first.map { $0.start } ?? 0) + slots.count)
        batch.bytes.withUnsafeBufferPointer { bytes in
            for slot in slots {
                appendCompact(UnsafeBufferPointer(rebasing: bytes[slot.start..<slot.end]), to: &text)
                text.append(UInt8(ascii: "\n"))
            }
        }
        return text
    }

    /// Applies the answer lines of `exchange` to records `first...` in order, until the
    /// first line that is not a valid answer.
    ///
    /// - Returns: How many lines were applied, and why the next one is not valid.
    private func accept(_ exchange: Exchange, first: Int, source: Batch, into output: inout Batch,
                        context: StageContext) -> (count: Int, garbage: String?) {
        for (k, line) in exchange.lines.enumerated() {
            let slot = source.records[first + k]
            let start = output.bytes.count
            output.bytes.append(contentsOf: exchange.buffer[line])
            output.records.append(RecordSlot(start: start, end: output.bytes.count, line: slot.line, offset: slot.offset))
            let index = output.records.count - 1
            var verdict = Verdict.keep
            do {
                try output.indexRecord(at: index, maxDepth: CommandStage.maxAnswerDepth)
                let root = Int(output.records[index].tapeStart)
                verdict = output.withView { view in
                    switch view.kind(root) {
                    case .object:
                        guard let message = view.member(of: root, key: "$error") else { return .keep }
                        return .fail(view.kind(message) == .string
                            ? view.string(message) ?? ""
                            : String(decoding: view.rawBytes(message), as: UTF8.self))
                    case .null:
                        return .drop
                    case let other:
                        return .invalid("the worker answered with \(other.article), expected an object, null or {\"$error\": \"...\"}")
                    }
                }
            } catch {
                verdict = .invalid("the worker's answer is not valid JSON: \(error.message) at byte \(error.offset): \(CommandStage.excerpt(exchange.buffer[line]))")
            }
            if case .keep = verdict { continue }
            // Not kept: take the line back off the batch.
            let removed = output.records.removeLast()
            output.bytes.removeSubrange(removed.start...)
            if removed.tapeStart >= 0 { output.tape.removeSubrange(Int(removed.tapeStart)...) }
            switch verdict {
            case .keep: break
            case .drop: output.filtered += 1
            case .fail(let message): output.errors.append(context.recordError(.transform, message, batch: source, slot: slot))
            case .invalid(let reason): return (k, reason)
            }
        }
        return (exchange.lines.count, nil)
    }

    /// What one answer line says about its record.
    private enum Verdict {
        case keep
        case drop
        case fail(String)
        /// Not an answer at all: a protocol fault.
        case invalid(String)
    }

    /// The start of a bad answer, for messages.
    static func excerpt(_ bytes: ArraySlice<UInt8>) -> String {
        let text = String(decoding: bytes.prefix(120), as: UTF8.self)
        return bytes.count > 120 ? "'\(text)…'" : "'\(text)'"
    }
}

/// One batch's hold on a worker: acquires a child (idle or new), replaces it after a
/// fault (counting restarts), and gives up — stopping the run — past `max_restarts`.
struct CommandSession {
    let stage: CommandStage
    let context: StageContext
    private var child: ChildProcess?
    /// How the last terminated child ended, for error messages.
    private var lastExit = ChildExit(description: "exited")
    /// Set once the stage cannot go on (start failure or too many restarts).
    package private(set) var failure = ""

    init(stage: CommandStage, context: StageContext) {
        self.stage = stage
        self.context = context
    }

    /// A live child for the next exchange, or nil when the stage cannot go on (then
    /// ``failure`` says why) or the run is stopping.
    package mutating func acquire() -> ChildProcess? {
        if let child { return child }
        if !failure.isEmpty { return nil }
        if context.control.isCancelled {
            failure = "the run stopped before the worker answered"
            return nil
        }
        if let idle = stage.pool.checkout(context.control) {
            child = idle
            return idle
        }
        do {
            let started = try ChildProcess.spawn(
                argv: stage.config.argv, environment: stage.environment, directory: stage.config.workingDirectory,
                logger: context.logger, stageName: context.stageName)
            stage.pool.noteSpawned(started.pid)
            child = started
            return started
        } catch {
            failure = "stage '\(context.stageName)': \(error.message)"
            context.control.cancel(reason: failure)
            return nil
        }
    }

    /// Kills the current child after a fault (`reason`), and counts the restart; past
    /// `max_restarts` the run is stopped.
    mutating func fault(_ reason: String) {
        if let child {
            lastExit = child.terminate(grace: CommandStage.killGrace)
            self.child = nil
        }
        let restarts = stage.pool.addRestart(context.control)
        if restarts > stage.config.maxRestarts {
            failure = "stage '\(context.stageName)': \(restarts) worker faults, more than max_restarts (\(stage.config.maxRestarts)); the last one: \(reason)"
            context.control.cancel(reason: failure)
        } else {
            context.logger.warning("command worker restarted", metadata: [
                "stage": "\(context.stageName)", "reason": "\(reason)", "restarts": "\(restarts)",
            ], source: logSource)
        }
    }

    /// Reaps the current child after an exchange that ended with `.exited`, and returns
    /// how it ended (for the error line); the fault that follows has nothing left to kill.
    mutating func reapExited() -> ChildExit {
        if let child {
            lastExit = child.terminate(grace: CommandStage.killGrace)
            self.child = nil
        }
        return lastExit
    }

    /// Drops the current child without counting a restart (the run is stopping).
    mutating func abandon() {
        child?.terminate(grace: CommandStage.killGrace)
        child = nil
    }

    /// Returns a healthy child to the pool at the end of the batch.
    package mutating func release() {
        if let child { stage.pool.checkin(child, context.control) }
        child = nil
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
