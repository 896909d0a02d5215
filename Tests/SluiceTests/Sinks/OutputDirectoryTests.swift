import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Directories a run creates under the output directory are made durable (each one's
/// parent fsynced) before the ledger names the outputs inside them.
@Suite struct OutputDirectoryTests {
    /// Route `mirror` writes input `old/deep/x.ndjson` under `lists/`, so the run creates
    /// `lists`, `lists/old` and `lists/old/deep`; route `parts` partitions into `kept/`,
    /// which exists beforehand, and creates `kept/country=DE`. The syncs happen when the
    /// outputs are sealed (before the ledger names them), each parent once.
    @Test func everyCreatedDirectoryIsSyncedInItsParentWhenTheOutputsAreSealed() throws {
        let out = TestSupport.temporaryDirectory("sluice-dirs")
        defer { TestSupport.cleanup(out) }
        try FileManager.default.createDirectory(at: out.appendingPathComponent("kept"), withIntermediateDirectories: true)
        let config = try PipelineConfig.parse(yaml: """
            name: d
            input: { path: unused }
            output:
              path: unused
              routes:
                - { name: mirror, path: lists, layout: mirror, when: 'true' }
                - { name: parts, path: kept, layout: partitioned, partition_by: [country] }
            """)
        let outputs = OutputSet(routes: config.output.effectiveRoutes, root: out.path, pipeline: "d", runID: "r",
                                filePaths: ["old/deep/x.ndjson"])
        var synced: [String] = []
        outputs.directories.syncDirectory = { synced.append($0) }
        outputs.beginFile(0)
        try outputs.append(OutputPiece(route: 0, partition: "", bytes: Array("{}\n".utf8), records: 1))
        try outputs.append(OutputPiece(route: 1, partition: "country=DE", bytes: Array("{}\n".utf8), records: 1))
        try outputs.endFile()
        #expect(synced.isEmpty, "synced before the outputs were sealed: \(synced)")
        try outputs.finish()
        defer { outputs.discard() }

        let root = out.path
        #expect(Set(synced) == ["\(root)/lists/old", "\(root)/lists", root, "\(root)/kept"], "\(synced)")
        #expect(synced.count == 4, "each parent once: \(synced)")
        // Deepest first, so a parent is synced after the entries below it.
        #expect(synced.firstIndex(of: "\(root)/lists/old")! < synced.firstIndex(of: "\(root)/lists")!)
        #expect(synced.firstIndex(of: "\(root)/lists")! < synced.firstIndex(of: root)!)
    }

    /// A directory the run creates outside the output directory (an error report path
    /// like `../logs/`) is not the run's to sync above the output directory.
    @Test func directoriesAreSyncedOnlyUpToTheOutputDirectory() throws {
        let base = TestSupport.temporaryDirectory("sluice-dirs")
        defer { TestSupport.cleanup(base) }
        let out = base.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let directories = OutputDirectories(root: out.path)
        var synced: [String] = []
        directories.syncDirectory = { synced.append($0) }
        try directories.create(base.appendingPathComponent("logs/a").path)
        try directories.create(out.appendingPathComponent("errors/x").path)
        try directories.syncCreated()
        #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("logs/a").path))
        #expect(synced == [out.appendingPathComponent("errors").path, out.path])
        // Synced once: a second seal has nothing new to sync.
        try directories.syncCreated()
        #expect(synced.count == 2)
    }
}
