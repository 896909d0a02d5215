import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension InputsTests {
    @Suite struct DirectoryScannerTests {
        @Test func listsRecursivelyInByteOrder() throws {
            let dir = try TempDir()
            for name in ["b.json", "a/z.json", "a/b/c.json", "B.json", "a-b.json", "é.json"] {
                try dir.write(name, "{}\n")
            }
            let files = try DirectoryScanner(root: dir.path).scan()
            #expect(files.map(\.relativePath) == ["B.json", "a/b/c.json", "a/z.json", "a-b.json", "b.json", "é.json"].sorted {
                $0.utf8.lexicographicallyPrecedes($1.utf8)
            })
            // '-' (0x2d) sorts before '/' (0x2f) in byte order.
            #expect(files.map(\.relativePath) == ["B.json", "a-b.json", "a/b/c.json", "a/z.json", "b.json", "é.json"])
            #expect(files.allSatisfy { $0.problem == nil && $0.size == 3 && $0.mtime > 0 })
            #expect(files[0].path == dir.path + "/B.json")
        }

        @Test func includeAndExclude() throws {
            let dir = try TempDir()
            for name in ["x.json.gz", "d/y.ndjson", "d/y.xml", "tmp/z.json.gz", "notes.txt"] {
                try dir.write(name, "")
            }
            let scanner = try DirectoryScanner(root: dir.path, include: ["**/*.json.gz", "**/*.ndjson"], exclude: ["tmp/**"])
            #expect(try scanner.scan().map(\.relativePath) == ["d/y.ndjson", "x.json.gz"])
        }

        @Test func rootErrors() throws {
            let dir = try TempDir()
            let file = try dir.write("f", "x")
            #expect(throws: InputError.rootNotFound(path: dir.path + "/missing")) {
                try DirectoryScanner(root: dir.path + "/missing").scan()
            }
            // A regular file is the run's only input, under its name.
            let single = try DirectoryScanner(root: file.path, include: ["**/*.json"], exclude: ["f"]).scan()
            #expect(single.map(\.relativePath) == ["f"])
            #expect(single.map(\.path) == [file.path])
            #expect(single.first?.size == 1)
            #expect(single.first?.problem == nil)
            let fifo = dir.path + "/fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            #expect(throws: InputError.rootNotDirectory(path: fifo)) {
                try DirectoryScanner(root: fifo).scan()
            }
            #expect(InputError.rootNotDirectory(path: "/p").description == "input path '/p' is neither a directory nor a regular file")
            #expect(InputError.rootNotFound(path: "/x").description == "input directory '/x' does not exist")
        }

        @Test func fifoAndSocketAreProblemsNotHangs() throws {
            let dir = try TempDir()
            try dir.write("a.json", "{}")
            #expect(mkfifo(dir.path + "/pipe.json", 0o644) == 0)
            let socketPath = dir.path + "/sock"
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in socketPath.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(bound == 0)

            let files = try DirectoryScanner(root: dir.path).scan()
            #expect(files.map(\.relativePath) == ["a.json", "pipe.json", "sock"])
            #expect(files[1].problem == "not a regular file (fifo)")
            #expect(files[2].problem == "not a regular file (socket)")

            // Reading a FIFO directly must not block either.
            let fifo = InputFile(relativePath: "pipe.json", path: dir.path + "/pipe.json", size: 0, mtime: 0)
            let (outcome, batches) = readAll(fifo)
            #expect(batches.isEmpty)
            #expect(outcome.failure?.kind == .io)
            #expect(outcome.failure?.message == "not a regular file")
            let (reported, _) = readAll(files[1])
            #expect(reported.failure == RecordError(file: "pipe.json", stage: "input", kind: .io, message: "not a regular file (fifo)"))
        }

        @Test func symlinksFollowedAndLoopsReported() throws {
            let dir = try TempDir()
            try dir.write("real/data.json", "{}")
            let fm = FileManager.default
            try fm.createSymbolicLink(atPath: dir.path + "/link.json", withDestinationPath: dir.path + "/real/data.json")
            try fm.createSymbolicLink(atPath: dir.path + "/real/up", withDestinationPath: "..")
            try fm.createSymbolicLink(atPath: dir.path + "/alias", withDestinationPath: "real")
            try fm.createSymbolicLink(atPath: dir.path + "/dangling", withDestinationPath: "nowhere")
            try fm.createSymbolicLink(atPath: dir.path + "/self", withDestinationPath: "self")

            let files = try DirectoryScanner(root: dir.path).scan()
            let byPath = Dictionary(uniqueKeysWithValues: files.map { ($0.relativePath, $0) })
            #expect(files.map(\.relativePath) == ["alias/data.json", "alias/up", "dangling", "link.json", "real/data.json", "real/up", "self"])
            #expect(byPath["link.json"]?.problem == nil)
            #expect(byPath["link.json"]?.size == 2)
            #expect(byPath["alias/data.json"]?.problem == nil)
            #expect(byPath["real/up"]?.problem?.contains("loop") == true)
            #expect(byPath["alias/up"]?.problem?.contains("loop") == true)
            #expect(byPath["dangling"]?.problem == "dangling symbolic link")
            #expect(byPath["self"]?.problem == "symbolic link loop")

            // An excluded loop is not reported.
            let quiet = try DirectoryScanner(root: dir.path, exclude: ["**/up", "self", "dangling"]).scan()
            #expect(quiet.allSatisfy { $0.problem == nil })
        }

        @Test func unreadableEntries() throws {
            // Tests run as root, for whom chmod 000 changes nothing; only check when it bites.
            let dir = try TempDir()
            try dir.write("locked/a.json", "{}")
            try dir.write("secret.json", "{}")
            chmod(dir.path + "/locked", 0)
            chmod(dir.path + "/secret.json", 0)
            defer { chmod(dir.path + "/locked", 0o755) }
            let files = try DirectoryScanner(root: dir.path).scan()
            if getuid() != 0 {
                #expect(files.map(\.relativePath) == ["locked", "secret.json"])
                #expect(files.allSatisfy { $0.problem != nil })
            } else {
                #expect(files.map(\.relativePath) == ["locked/a.json", "secret.json"])
            }
        }

        @Test func manyFiles() throws {
            let dir = try TempDir()
            for i in 0..<2000 { try dir.write("d\(i % 10)/f\(i).ndjson", "") }
            let files = try DirectoryScanner(root: dir.path, include: ["**/*.ndjson"]).scan()
            #expect(files.count == 2000)
            #expect(zip(files, files.dropFirst()).allSatisfy { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) })
        }
    }
}
