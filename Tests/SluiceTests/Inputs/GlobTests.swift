import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension InputsTests {
    @Suite struct GlobTests {
        @Test(arguments: [
            ("**/*.json", "a.json", true),
            ("**/*.json", "x/y/a.json", true),
            ("**/*.json", "x/y/a.json.gz", false),
            ("*.json", "x/a.json", false),
            ("*.json", "a.json", true),
            ("a/**/b", "a/b", true),
            ("a/**/b", "a/x/y/b", true),
            ("a/**", "a/x/y", true),
            ("a/**", "b/x", false),
            ("d?t?/*", "data/x", true),
            ("d?t?/*", "dat/x", false),
            ("[abc]*.txt", "b1.txt", true),
            ("[abc]*.txt", "d1.txt", false),
            ("[!abc]*.txt", "d1.txt", true),
            ("[a-c]x", "bx", true),
            ("**/*.{json,ndjson}{,.gz}", "p/q.ndjson.gz", true),
            ("**/*.{json,ndjson}{,.gz}", "p/q.json", true),
            ("**/*.{json,ndjson}{,.gz}", "p/q.xml", false),
            ("{logs/**,x}/*.txt", "logs/2024/a.txt", true),
            ("*", ".hidden", true),
            ("é?.json", "éa.json", true),
            ("\\*.json", "*.json", true),
            ("\\*.json", "a.json", false),
            ("./src/*.c", "src/a.c", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
        ])
        func matching(pattern: String, path: String, expected: Bool) throws {
            #expect(try Glob(pattern).matches(path) == expected)
        }

        @Test func everythingUnderADirectory() throws {
            #expect(try Glob("tmp/**").matchesEverything(under: "tmp"))
            #expect(try Glob("**/cache/**").matchesEverything(under: "a/b/cache"))
            #expect(try Glob("{x,tmp}/**").matchesEverything(under: "tmp"))
            #expect(try !Glob("tmp/*").matchesEverything(under: "tmp"))
            #expect(try !Glob("tmp/**/*.json").matchesEverything(under: "tmp"))
            #expect(try !Glob("tmp/**").matchesEverything(under: "other"))
        }

        @Test(arguments: ["", "[abc", "{a,b", "a\\"])
        func malformedPatternsThrow(pattern: String) {
            #expect(throws: InputError.self) { try Glob(pattern) }
        }
    }
}
