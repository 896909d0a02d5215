import SluiceCore

/// `command: [PROGRAM, ARGS...]` or `command: { run: [...], timeout, ... }` — the kind's
/// keys, declared once: the loader, `docs/stages.md`, the JSON Schema and
/// ``CommandStage/Config``'s defaults all read them from here.
extension CommandStage {
    public enum Keys {
        public static let run = Setting.requiredList("run", .arguments, "Long form: the program and its arguments (looked up in PATH unless it contains `/`).",
                                                     missingHint: "the program and its arguments")
        public static let timeout = Setting.duration("timeout", .milliseconds(1)...(.seconds(24 * 3600)), default: .seconds(30),
                                                     "How long a worker may take to answer a batch before it is killed and replaced.")
        public static let maxRestarts = Setting.integer("max_restarts", 0...1_000_000, default: 10, "Worker replacements allowed per run before the run fails.")
        public static let env = Setting.fields("env", label: "variable", .string, "Environment variables added to the inherited environment.")
        public static let cwd = Setting.optional("cwd", .string, "The workers' working directory (default: Sluice's).")
        public static let stopGrace = Setting.duration("stop_grace", .zero...(.seconds(3600)), default: .seconds(5),
                                                       "At the end, how long workers have after EOF before SIGTERM.")
        /// The long form's keys, in the order the docs list them.
        package static let all = [run.key, timeout.key, maxRestarts.key, env.key, cwd.key, stopGrace.key]
    }

    package static let stageKind = StageKind(
        name: kind, summary: "Run records through a program of your own, as NDJSON over stdin and stdout.",
        value: .oneOf([.arguments, .mapping(Keys.all)]),
        doc: "Short form: the program and its arguments, e.g. `[python3, enrich.py]`.",
        example: "[python3, fixtures/scripts/enrich.py]"
    ) { (value, _) throws(StageConfigError) -> any Stage in
        // The short form is the argv alone; the long form a mapping with `run`.
        if let argv = value.stringsValue { return try make(config: Config(argv: argv)) }
        var environment: [String: String] = [:]
        for entry in value[Keys.env] { environment[entry.key] = entry.value.stringValue ?? "" }
        return try make(config: Config(argv: value.required(Keys.run) ?? [], timeout: value[Keys.timeout],
                                       maxRestarts: value[Keys.maxRestarts], environment: environment,
                                       workingDirectory: value[Keys.cwd], stopGrace: value[Keys.stopGrace]))
    }
}
