import ArgumentParser
import Foundation
import Logging
import Sluice

extension SluiceCommand {
    /// `sluice test CONFIG…|DIR`: run the test cases declared with pipelines.
    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Run the test cases declared in a config's `tests:` or its sibling NAME.tests.yaml.",
            discussion: """
                Given a directory, tests every *.yaml config in it (not *.tests.yaml). \
                Prints each case with a diff on failure. Exit 0 when all pass, 1 when one \
                fails, 2 for a config error.
                """)

        @Argument(help: "Pipeline configs, or directories of them.")
        var paths: [String]

        @OptionGroup var overrides: ConfigOverrides

        func run() throws {
            var configs: [String] = []
            for path in paths {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                    configs += names.filter { $0.hasSuffix(".yaml") && !$0.hasSuffix(".tests.yaml") }.sorted()
                        .map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
                } else {
                    configs.append(path)
                }
            }
            var passed = 0, failed = 0, configErrors = false
            // Warnings only: a case's run must not print its per-file info lines between the results.
            var logger = Logger(label: "sluice")
            logger.logLevel = .warning
            for path in configs {
                do {
                    let config = try PipelineConfig.load(path: path, overrides: overrides.values)
                    var cases = config.tests
                    let sibling = path.replacingOccurrences(of: ".yaml", with: ".tests.yaml")
                    if FileManager.default.fileExists(atPath: sibling) {
                        cases += try PipelineConfig.loadTests(path: sibling)
                    }
                    if cases.isEmpty {
                        print("\(path): no test cases")
                        continue
                    }
                    for result in PipelineTester(config: config, logger: logger).run(cases) {
                        if result.passed {
                            passed += 1
                            print("✔ \(path): \(result.name)")
                        } else {
                            failed += 1
                            print("✘ \(path): \(result.name)")
                            result.differences.forEach { print("    \($0)") }
                        }
                    }
                } catch {
                    configErrors = true
                    printError("\(error)")
                }
            }
            if configErrors {
                // A broken config or test file is not "0 passed": say that tests did not run.
                print("\(passed) passed, \(failed) failed; some configs or test files have errors (above), their tests did not run")
                throw ExitCode(2)
            }
            print("\(passed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
