import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// docs/functions.md, docs/stages.md and docs/expressions.md are generated from the code; this fails when they
/// are stale. Regenerate with `SLUICE_UPDATE_DOCS=1 swift test --filter ReferenceDocs`.
@Suite struct ReferenceDocsTests {
    @Test(arguments: [("functions.md", ReferenceDocs.functions), ("stages.md", ReferenceDocs.stages), ("expressions.md", ReferenceDocs.expressions)])
    func docIsUpToDate(file: String, text: String) throws {
        let url = TestSupport.packageRoot.appendingPathComponent("docs").appendingPathComponent(file)
        if ProcessInfo.processInfo.environment["SLUICE_UPDATE_DOCS"] == "1" {
            try Data(text.utf8).write(to: url)
        }
        #expect(String(decoding: TestSupport.read(url), as: UTF8.self) == text, "docs/\(file) is stale")
    }
}
