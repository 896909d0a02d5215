import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// `sluice help TOPIC`: cut from the generated reference, rendered for a terminal.
@Suite struct HelpTopicTests {
    @Test(arguments: HelpTopic.allCases)
    func everyTopicRendersWithinTheWidth(topic: HelpTopic) throws {
        let markdown = try HelpTopic.markdown(topic, name: topic == .stage ? "select" : nil)
        #expect(!markdown.isEmpty)
        let text = TerminalText.render(markdown, width: 72)
        #expect(!text.contains("<!--"))
        #expect(!text.contains("|---"))
        for line in text.split(separator: "\n") where !line.hasPrefix("    ") && line.contains(" ") {
            // Only a single word longer than the width (a path, a code block) may overflow.
            let longestWord = line.split(separator: " ").map(\.count).max() ?? 0
            #expect(line.count <= 72 || longestWord > 60, "too wide: \(line)")
        }
    }

    @Test func everyStageKindHasItsPage() throws {
        for kind in StageRegistry.kinds {
            let text = TerminalText.render(try HelpTopic.markdown(.stage, name: kind.name))
            #expect(text.hasPrefix(kind.name + "\n"))
            #expect(text.contains(kind.summary.split(separator: " ").prefix(3).joined(separator: " ")))
            for key in kind.keys where !key.name.hasPrefix("<") && !key.name.hasPrefix("(") {
                #expect(text.contains("  " + key.name + " "), "stage \(kind.name) lacks key \(key.name)")
            }
        }
        let stages = TerminalText.render(try HelpTopic.markdown(.stages))
        for kind in StageRegistry.kinds { #expect(stages.contains("  " + kind.name + " ")) }
    }

    @Test func unknownStageSuggestsTheClosest() {
        #expect(throws: HelpTopic.Problem.self) { try HelpTopic.markdown(.stage, name: "selct") }
        do {
            _ = try HelpTopic.markdown(.stage, name: "selct")
        } catch {
            #expect(error.description.hasPrefix("no stage kind 'selct' (did you mean 'select'?)"))
        }
    }

    @Test func functionsAndTestsCarryTheirReference() throws {
        let functions = TerminalText.render(try HelpTopic.markdown(.functions))
        #expect(functions.contains("parse_time(s, format, zone)"))
        let tests = TerminalText.render(try HelpTopic.markdown(.tests))
        for key in ["input_file", "output_count", "errors"] { #expect(tests.contains("  " + key + " ")) }
    }

    @Test func rendering() {
        let text = TerminalText.render("""
            # Title
            Some `code` and a [link](x.md) in a paragraph
            that continues.

            - a bullet that is long enough to wrap around at the narrow width given here
            | key | type | meaning |
            |---|---|---|
            | `a` | int | The a. |

            ```yaml
            x: 1
            ```
            """, width: 40)
        #expect(text == """
            TITLE
            =====
            Some code and a link in a paragraph that
            continues.

              • a bullet that is long enough to wrap
                around at the narrow width given
                here
              a (int)
                  The a.

                x: 1

            """)
    }
}
