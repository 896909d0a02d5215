import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct CSVReaderTests {
    func fields(_ text: String) throws -> [[String]] {
        try CSVReader.records(Array(text.utf8)).map { $0.fields.map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test func readsQuotedFieldsEscapedQuotesAndCRLF() throws {
        let text = "\u{FEFF}a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n2,\"two\nlines\",\r\n\"\",,z"
        #expect(try fields(text) == [["a", "b", "c"], ["1", "x, y", "say \"hi\""], ["2", "two\nlines", ""], ["", "", "z"]])
        #expect(try CSVReader.records(Array(text.utf8)).map(\.line) == [1, 2, 4, 6])
        #expect(try fields("a\nb") == [["a"], ["b"]])
        #expect(try fields("a\r\n") == [["a"]])
    }

    @Test(arguments: [
        ("a,b\n1,x\"y\n", 2, "a quote inside an unquoted field (quote the whole field and double the quote)"),
        ("a\n\"open\n", 2, "a quoted field is not closed"),
        ("a\n\"x\"y\n", 2, "text after the closing quote of a field"),
    ])
    func rejectsMalformedQuoting(text: String, line: Int, message: String) {
        #expect(throws: CSVReader.Problem(line: line, message: message)) { try CSVReader.records(Array(text.utf8)) }
    }
}

@Suite struct LookupStageTests {
    static let csv = "code,name,region\r\nDE,Germany,EU\r\nUS,United States,\"Americas, North\"\r\n42,Answer,\"say \"\"x\"\"\"\r\n"
    static let input = """
        {"id":1,"c":"DE"}
        {"id":2,"c":"JP"}
        {"id":3,"c":42}
        {"id":4}
        """

    func reference(_ text: String, name: String = "ref.csv") throws -> URL {
        let dir = TestSupport.temporaryDirectory("sluice-lookup")
        let url = dir.appendingPathComponent(name)
        try TestSupport.write(text, to: url)
        return url
    }

    func run(_ config: LookupStage.Config, _ text: String = input) throws -> Batch {
        let stage = try LookupStage.make(config: config)
        var batch = try ndjsonBatch(text)
        stage.process(&batch, context: testContext)
        return batch
    }

    func config(_ url: URL, onMiss: String = "keep", into: String? = nil, defaults: [SelectStage.Field] = []) -> LookupStage.Config {
        .init(file: url.path, key: "c", keyColumn: "code",
              fields: into == nil ? [.init(key: "country.name", expression: "name"), .init(key: "region", expression: "region")] : [],
              into: into, onMiss: onMiss, defaults: defaults)
    }

    @Test func writesColumnsOnAHitAndKeepsMissesByDefault() throws {
        let url = try reference(Self.csv)
        defer { TestSupport.cleanup(url.deletingLastPathComponent()) }
        let batch = try run(config(url))
        #expect(recordTexts(batch) == [
            #"{"id":1,"c":"DE","country":{"name":"Germany"},"region":"EU"}"#,
            #"{"id":2,"c":"JP"}"#,
            #"{"id":3,"c":42,"country":{"name":"Answer"},"region":"say \"x\""}"#,
            #"{"id":4}"#,
        ])
        #expect(batch.errors.isEmpty && batch.filtered == 0)
    }

    @Test func missPolicies() throws {
        let url = try reference(Self.csv)
        defer { TestSupport.cleanup(url.deletingLastPathComponent()) }
        let dropped = try run(config(url, onMiss: "drop"))
        #expect(recordTexts(dropped).count == 2)
        #expect(dropped.filtered == 2)

        let failed = try run(config(url, onMiss: "error"))
        #expect(errorLines(failed) == [
            "2 transform: lookup: no row of ref.csv has the key 'JP' (from 'c')",
            "4 transform: lookup: no row of ref.csv has the key 'null' (from 'c')",
        ])

        let defaulted = try run(config(url, onMiss: "default", defaults: [.init(key: "name", expression: "Unknown")]))
        #expect(recordTexts(defaulted)[1] == #"{"id":2,"c":"JP","country":{"name":"Unknown"},"region":null}"#)
        #expect(recordTexts(defaulted)[3] == #"{"id":4,"country":{"name":"Unknown"},"region":null}"#)
    }

    @Test func intoNestsTheWholeRow() throws {
        let url = try reference(Self.csv)
        defer { TestSupport.cleanup(url.deletingLastPathComponent()) }
        let batch = try run(config(url, onMiss: "default", into: "ref", defaults: [.init(key: "name", expression: "?")]))
        #expect(recordTexts(batch)[0] == #"{"id":1,"c":"DE","ref":{"code":"DE","name":"Germany","region":"EU"}}"#)
        #expect(recordTexts(batch)[1] == #"{"id":2,"c":"JP","ref":{"code":null,"name":"?","region":null}}"#)
    }

    @Test func ndjsonReferenceKeepsTypesAndReadsPaths() throws {
        let url = try reference("{\"k\":{\"id\":1},\"rate\":0.2,\"tags\":[\"a\"]}\r\n\n{\"k\":{\"id\":\"DE\"},\"rate\":1}\n", name: "ref.ndjson")
        defer { TestSupport.cleanup(url.deletingLastPathComponent()) }
        let stage = try LookupStage.make(config: .init(file: url.path, key: "id", keyColumn: "k.id",
                                                         fields: [.init(key: "rate", expression: "rate"), .init(key: "tags", expression: "tags")]))
        var batch = try ndjsonBatch(#"{"id":1}"# + "\n" + #"{"id":"DE"}"# + "\n" + #"{"id":[1]}"#)
        stage.process(&batch, context: testContext)
        #expect(recordTexts(batch) == [#"{"id":1,"rate":0.2,"tags":["a"]}"#, #"{"id":"DE","rate":1,"tags":null}"#])
        #expect(errorLines(batch) == ["3 transform: lookup key 'id' is an array, not a string, number or boolean"])
    }

    @Test func duplicateKeysFailOrFirstWins() throws {
        let url = try reference("code,name\nDE,one\nFR,x\nDE,two\n")
        defer { TestSupport.cleanup(url.deletingLastPathComponent()) }
        var cfg = LookupStage.Config(file: url.path, key: "c", keyColumn: "code", fields: [.init(key: "n", expression: "name")])
        #expect(throws: StageConfigError(problems: [StageConfigProblem(keyPath: ["lookup", "file"],
            message: "reference '\(url.path)' line 4: key 'DE' repeats the row of line 2 (set duplicates: first to keep the first)")])) {
            try LookupStage.make(config: cfg)
        }
        cfg.duplicates = "first"
        let batch = try run(cfg, #"{"c":"DE"}"#)
        #expect(recordTexts(batch) == [#"{"c":"DE","n":"one"}"#])
        cfg.maxRows = 1
        #expect(throws: StageConfigError(problems: [StageConfigProblem(keyPath: ["lookup", "file"],
            message: "reference '\(url.path)' line 3: more than max_rows (1) rows; raise lookup.max_rows")])) {
            try LookupStage.make(config: cfg)
        }
    }

    @Test(arguments: [
        ("", "ref.csv", "the file is empty (a CSV reference needs a header row)"),
        ("code,name\nDE\n", "ref.csv", "line 2: the row has 1 fields, the header has 2"),
        ("cod,name\n", "ref.csv", "line 1: no column 'code' in the header (cod, name); did you mean 'cod'?"),
        ("code,code\n", "ref.csv", "line 1: the header names column 'code' twice"),
        ("code,name\n\"DE,x\n", "ref.csv", "line 2: a quoted field is not closed"),
        ("{\"code\":\"DE\"}\n{\"code\":\n", "ref.ndjson", "line 2: invalid JSON: "),
        ("[1]\n", "ref.ndjson", "line 1: the row is not a JSON object"),
        ("{\"name\":1}\n", "ref.ndjson", "line 1: the row has no key field 'code'"),
        ("{\"code\":{}}\n", "ref.ndjson", "line 1: the key field 'code' is an object, not a string, number or boolean"),
    ])
    func malformedReferencesAreConfigErrorsWithTheirLine(text: String, name: String, message: String) throws {
        let url = try reference(text, name: name)
        defer { TestSupport.cleanup(url.deletingLastPathComponent()) }
        do {
            _ = try LookupStage.make(config: .init(file: url.path, key: "c", keyColumn: "code", fields: [.init(key: "n", expression: "name")]))
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems.first?.keyPath == ["lookup", "file"])
            let text = error.problems.first?.message ?? ""
            #expect(text.hasPrefix("reference '\(url.path)'"))
            #expect(text.contains(message), "\(text)")
        }
    }

    @Test func badConfigsNameEveryProblem() {
        do {
            _ = try LookupStage.make(config: .init(file: "x.txt", key: "len(", keyColumn: "code", onMiss: "default", duplicates: "last", maxRows: 0))
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.map(\.keyPath) == [["lookup", "key"], ["lookup", "on_miss"], ["lookup", "duplicates"], ["lookup", "max_rows"],
                                                       ["lookup", "file"], ["lookup"]])
        }
        #expect(throws: StageConfigError.self) {
            try LookupStage.make(config: .init(file: "a.csv", key: "c", keyColumn: "code", fields: [.init(key: "a", expression: "b")], into: "x"))
        }
        #expect(throws: StageConfigError.self) {
            try LookupStage.make(config: .init(file: "a.csv", key: "c", keyColumn: "code", fields: [.init(key: "a", expression: "b")], defaults: [.init(key: "b", expression: "1")]))
        }
    }

    @Test func configLoadResolvesTheFileAgainstTheConfigDirectoryAndPointsAtProblems() throws {
        let dir = TestSupport.temporaryDirectory("sluice-lookup-config")
        defer { TestSupport.cleanup(dir) }
        try TestSupport.write("code,name\nDE,Germany\n", to: dir.appendingPathComponent("ref/countries.csv"))
        let yaml = """
            name: t
            input: { path: in }
            output: { path: out }
            stages:
              - lookup:
                  file: ref/countries.csv
                  key: c
                  key_column: code
                  fields: { country: name }
                  on_miss: default
                  default: { nme: x }
              - lookup: { file: missing.csv, key: c, key_column: code, into: r }
              - lookup: { file: ref/countries.csv, key: c, key_colum: code }
            """
        let configURL = dir.appendingPathComponent("p.yaml")
        try TestSupport.write(yaml, to: configURL)
        do {
            _ = try PipelineConfig.load(path: configURL.path)
            Issue.record("expected a config error")
        } catch {
            let lines = error.problems.map { "\($0.line):\($0.column): \($0.message)" }
            #expect(lines == [
                "11:16: stages[0].lookup.default: no column 'nme' in the header (code, name); did you mean 'name'?",
                "12:21: stages[1].lookup.file: reference '\(dir.appendingPathComponent("missing.csv").path)': does not exist",
                "13:48: stages[2].lookup.key_colum: unknown key 'key_colum' (did you mean 'key_column'?)",
                "13:13: stages[2].lookup: missing required key 'key_column'",
            ], "\(lines)")
        }
        try TestSupport.write(yaml.components(separatedBy: "\n").prefix(9).joined(separator: "\n"), to: configURL)
        let config = try PipelineConfig.load(path: configURL.path)
        #expect(config.stages.first?.kind == "lookup")
        #expect((config.stages.first?.stage as? LookupStage)?.rowCount == 1)
    }
}
