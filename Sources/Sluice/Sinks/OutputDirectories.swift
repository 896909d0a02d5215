import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The directories a run creates under the output directory (a route's `path`, a
/// partition `country=DE/`, a mirror `sub/`), made durable before the ledger names the
/// outputs inside them.
///
/// ``OutputFile/commit()`` fsyncs the directory it renames into, but the entry of a new
/// directory lives in its parent: until the parent is fsynced, a power loss can take the
/// directory — and the committed outputs in it — away while the ledger says committed.
/// ``syncCreated()`` fsyncs the parent of every directory created since the last call,
/// deepest first and each parent once, up to the output directory itself (whose own
/// entry is outside the run's: the ledger lives in it, so they vanish together).
package final class OutputDirectories {
    /// The output directory: directories above it are never synced.
    let root: String
    /// Fsyncs one directory; tests replace it to see which directories are synced.
    var syncDirectory: (String) throws(SinkError) -> Void = OutputDirectories.fsyncDirectory
    /// Created under `root` and not yet synced in their parent.
    private var created: [String] = []

    init(root: String) {
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
    }

    /// Creates `path` and any missing ancestors, remembering those under the output
    /// directory.
    package func create(_ path: String) throws(SinkError) {
        let target = URL(fileURLWithPath: path).standardizedFileURL.path
        var missing: [String] = []
        var directory = target
        while !FileManager.default.fileExists(atPath: directory) && directory != "/" && !directory.isEmpty {
            missing.append(directory)
            directory = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        }
        guard !missing.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        } catch {
            throw SinkError.io(path: target, operation: "create directory", errno: errno)
        }
        created += missing.filter { $0.hasPrefix(root + "/") }
    }

    /// Fsyncs the parent of every directory created since the last call.
    func syncCreated() throws(SinkError) {
        let deepestFirst = created.sorted { $0.split(separator: "/").count > $1.split(separator: "/").count }
        var synced: Set<String> = []
        for directory in deepestFirst {
            let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
            if synced.insert(parent).inserted { try syncDirectory(parent) }
        }
        created.removeAll()
    }

    /// `fsync` on a directory; a file system that cannot sync directories (EINVAL) is
    /// left as it is, as ``OutputFile/commit()`` does.
    static func fsyncDirectory(_ path: String) throws(SinkError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor < 0 { throw SinkError.io(path: path, operation: "open directory", errno: errno) }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 && errno != EINVAL {
            throw SinkError.io(path: path, operation: "fsync directory", errno: errno)
        }
    }
}
