import Foundation
import Testing
@testable import Sluice

/// `sluice test` cases that assert which records went to which route and partition
/// (`routes:`, `partitions:`; issue 15), through the real binary.
@Suite(.serialized) struct TestRouteAssertionTests {
    static func config(_ dir: URL, tests: String) throws -> URL {
        let config = dir.appendingPathComponent("r.yaml")
        try TestSupport.write("""
            name: r
            input: { path: in }
            output:
              path: out
              format: csv
              compression: gzip
              columns: [id]
              routes:
                - name: big
                  when: 'total > 100'
                  layout: partitioned
                  partition_by: [country]
                - name: rest
            tests:
            \(tests)
            """, to: config)
        return config
    }

    @Test func routesAndPartitionsHoldTheRecordsTheCaseExpects() throws {
        let dir = TestSupport.temporaryDirectory("sluice-test-routes")
        defer { TestSupport.cleanup(dir) }
        let config = try Self.config(dir, tests: """
              - name: routing
                input:
                  - { id: 1, total: 200, country: DE }
                  - { id: 2, total: 1, country: FR }
                  - '{"id": 3, "total": 300, "country": "FR"}'
                output_count: 3
                routes:
                  big: [{ id: 1, total: 200, country: DE }, { id: 3, total: 300, country: FR }]
                  rest: 1
                partitions:
                  big/country=DE: 1
                  big/country=FR: [{ id: 3, total: 300, country: FR }]
            """)
        let passing = try CLITests.sluice(["test", config.path])
        #expect(passing.code == 0, "\(passing.stdout)\(passing.stderr)")
        #expect(passing.stdout.contains("r.yaml: routing"), "\(passing.stdout)")
        #expect(passing.stdout.contains("1 passed, 0 failed"), "\(passing.stdout)")
    }

    @Test func wrongRoutesAndPartitionsAreNamed() throws {
        let dir = TestSupport.temporaryDirectory("sluice-test-routes")
        defer { TestSupport.cleanup(dir) }
        let config = try Self.config(dir, tests: """
              - name: wrong
                input:
                  - { id: 1, total: 200, country: DE }
                routes:
                  rest: [{ id: 1 }]
                  big: [{ id: 1, total: 200, country: FR }]
                  nope: 0
                partitions:
                  country=DE: 1
            """)
        let failing = try CLITests.sluice(["test", config.path])
        #expect(failing.code == 1, "\(failing.stdout)\(failing.stderr)")
        let out = failing.stdout
        #expect(out.contains("r.yaml: wrong"), "\(out)")
        #expect(out.contains("route 'rest': expected 1 records, got 0"), "\(out)")
        #expect(out.contains("route 'big': record 1:"), "\(out)")
        #expect(out.contains("country: expected \"FR\", got \"DE\""), "\(out)")
        #expect(out.contains("routes: no route named 'nope' (the config's routes: big, rest)"), "\(out)")
        #expect(out.contains("partition 'country=DE': expected 1 record, got 0 (partitions written: big/country=DE)"), "\(out)")
        #expect(out.contains("0 passed, 1 failed"), "\(out)")
    }

    @Test func aBadExpectationIsAConfigError() throws {
        let dir = TestSupport.temporaryDirectory("sluice-test-routes")
        defer { TestSupport.cleanup(dir) }
        let config = try Self.config(dir, tests: """
              - name: bad
                input: [{ id: 1 }]
                routes: { rest: many }
            """)
        let broken = try CLITests.sluice(["test", config.path])
        #expect(broken.code == 2, "\(broken.stdout)\(broken.stderr)")
        #expect(broken.stderr.contains("tests[0].routes.rest"), "\(broken.stderr)")
    }
}
