#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lists the input files of a run: the regular files under a directory, searched
/// recursively, filtered by `include` / `exclude` globs (see ``Glob``) and sorted by the
/// byte order of their relative paths.
///
/// Symbolic links follow ``SymlinkPolicy`` (`input.follow_symlinks`): by default
/// (`within`) a link is followed only when its target is inside the input directory — a
/// link to `/etc/passwd` or `/proc/self/environ` is not read but listed with a
/// ``InputFile/problem`` (one `io` line); `always` follows every link, `never` none.
/// Followed links to directories are walked with loop detection by device and inode over
/// the chain of enclosing directories.
/// Entries that cannot be read — FIFOs, sockets, devices, dangling links, link loops,
/// unreadable files or directories — come back as ``InputFile``s with ``InputFile/problem``
/// set. Nothing is opened here: the scan only lists and `stat`s, so a FIFO cannot hang it.
///
/// ```swift
/// let scanner = try DirectoryScanner(root: "data", include: ["**/*.json.gz"], exclude: ["tmp/**"])
/// for file in try scanner.scan() { print(file.relativePath, file.size) }
/// ```
///
/// A path is kept when it matches at least one `include` pattern (every path, when the
/// list is empty) and no `exclude` pattern. An unreadable directory or a directory link
/// loop is reported unless an `exclude` pattern matches its own relative path. A directory
/// whose every descendant is excluded (`tmp/**`) is not entered at all.
///
/// Single-file mode: when the root is a regular file (`sluice run CONFIG --input
/// /data/2026/day.ndjson.gz`), the scan returns that one file, its ``InputFile/relativePath``
/// being its name, `day.ndjson.gz` (the error report's `file`, the ledger's key, the name
/// of a mirror output — a path as given, absolute or with `..`, would lead a mirror output
/// out of the output directory). `include` and `exclude` do not apply to a file named
/// directly.
///
/// - Complexity: one `lstat` per entry (and a `stat` for symbolic links), plus O(n log n) for sorting.
public struct DirectoryScanner: Sendable {
    /// The input directory.
    public let root: String
    /// Patterns a path must match one of; empty means every path.
    public let include: [String]
    /// Patterns that drop a path.
    public let exclude: [String]

    /// Which symbolic links are followed.
    public let symlinks: SymlinkPolicy

    /// `input.follow_symlinks`.
    public enum SymlinkPolicy: String, Sendable, CaseIterable {
        /// Only links whose target (resolved) is inside the input directory (default).
        case within
        /// Every link.
        case always
        /// No link: each is listed as a problem.
        case never
    }

    private let includeGlobs: [Glob]
    private let excludeGlobs: [Glob]

    /// - Throws: ``InputError/invalidGlob(pattern:reason:)`` for a malformed pattern.
    public init(root: String, include: [String] = [], exclude: [String] = [], symlinks: SymlinkPolicy = .within) throws(InputError) {
        self.root = root
        self.include = include
        self.exclude = exclude
        self.symlinks = symlinks
        var includeGlobs: [Glob] = []
        for pattern in include { includeGlobs.append(try Glob(pattern)) }
        var excludeGlobs: [Glob] = []
        for pattern in exclude { excludeGlobs.append(try Glob(pattern)) }
        self.includeGlobs = includeGlobs
        self.excludeGlobs = excludeGlobs
    }

    /// Walks the directory and returns its files, sorted by the UTF-8 bytes of their relative
    /// paths — or, when the root is a regular file, that file alone.
    ///
    /// - Throws: ``InputError/rootNotFound(path:)``, ``InputError/rootNotDirectory(path:)`` (the
    ///   root is neither a directory nor a regular file: a FIFO, a device) or
    ///   ``InputError/rootUnreadable(path:reason:)`` when the root itself cannot be listed.
    public func scan() throws(InputError) -> [InputFile] {
        let info = try DirectoryScanner.checkRoot(root)
        if DirectoryScanner.kind(info.st_mode) == S_IFREG { return [singleFile(info)] }
        guard let names = DirectoryScanner.list(root) else {
            throw .rootUnreadable(path: root, reason: DirectoryScanner.describe(errno))
        }
        var found: [InputFile] = []
        var ancestors = [FileID(info)]
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        let realRoot = DirectoryScanner.realPath(root) ?? base
        walk(names: names, directory: base, relative: "", realRoot: realRoot, ancestors: &ancestors, into: &found)
        found.sort { DirectoryScanner.bytesPrecede($0.relativePath, $1.relativePath) }
        return found
    }

    /// Whether `a`'s UTF-8 bytes sort before `b`'s: `memcmp` over the strings' own storage
    /// (names read from a directory are native UTF-8), else byte by byte.
    static func bytesPrecede(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y -> Bool in
                let common = min(x.count, y.count)
                if common > 0, let p = x.baseAddress, let q = y.baseAddress {
                    let order = memcmp(p, q, common)
                    if order != 0 { return order < 0 }
                }
                return x.count < y.count
            }
        }
        if let fast, let order = fast { return order }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Checks that `root` is a directory or a regular file, without listing it, and
    /// returns its `stat`: what a run checks before it creates anything.
    ///
    /// - Throws: ``InputError/rootNotFound(path:)``, ``InputError/rootNotDirectory(path:)``
    ///   or ``InputError/rootUnreadable(path:reason:)``.
    @discardableResult
    public static func checkRoot(_ root: String) throws(InputError) -> stat {
        var info = stat()
        guard stat(root, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .rootNotFound(path: root) }
            throw .rootUnreadable(path: root, reason: describe(code))
        }
        guard kind(info.st_mode) == S_IFREG || kind(info.st_mode) == S_IFDIR else { throw .rootNotDirectory(path: root) }
        return info
    }

    /// A warning when `include` keeps none of the files under the root while there are
    /// some (a typo such as `**/*.ndjsn` would otherwise give "nothing to do" forever);
    /// nil when something matches, the directory is empty, or it cannot be listed.
    public func unmatchedIncludeWarning() -> String? {
        guard !include.isEmpty, let matched = try? scan(), matched.isEmpty,
              let everything = try? DirectoryScanner(root: root, exclude: exclude, symlinks: symlinks).scan(), !everything.isEmpty else { return nil }
        let examples = everything.prefix(3).map(\.relativePath).joined(separator: ", ")
        let count = everything.count == 1 ? "1 file" : "\(everything.count) files"
        return "input.include \(include) matches none of the \(count) under \(root) (e.g. \(examples))"
    }

    /// The root, a regular file, as the run's only input (an unreadable one as a problem).
    private func singleFile(_ info: stat) -> InputFile {
        let trimmed = root.hasSuffix("/") ? String(root.dropLast()) : root
        let name = trimmed.split(separator: "/").last.map(String.init) ?? trimmed
        if access(root, R_OK) != 0 { return problem(name, root, "cannot read: " + DirectoryScanner.describe(errno)) }
        let mtime = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
        return InputFile(relativePath: name, path: root, size: Int(info.st_size), mtime: mtime)
    }

    // MARK: Walking

    /// Identity of a directory, for link loop detection.
    private struct FileID: Equatable {
        var device: UInt64
        var inode: UInt64
        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    private func walk(names: [String], directory: String, relative: String, realRoot: String,
                      ancestors: inout [FileID], into found: inout [InputFile]) {
        for name in names {
            let rel = relative.isEmpty ? name : relative + "/" + name
            let path = directory + "/" + name
            var info = stat()
            var known = false
            if symlinks != .always {
                switch linkCheck(path, realRoot: realRoot, info: &info) {
                case .refused(let refusal):
                    if wants(rel) || (!excluded(rel) && DirectoryScanner.isDirectory(path)) { found.append(problem(rel, path, refusal)) }
                    continue
                case .notALink:
                    known = true   // `lstat` of anything but a link is its `stat`: one call per file
                case .followed:
                    break
                }
            }
            if !known && stat(path, &info) != 0 {
                let code = errno
                var linkInfo = stat()
                let isLink = lstat(path, &linkInfo) == 0 && DirectoryScanner.kind(linkInfo.st_mode) == S_IFLNK
                let reason: String
                switch code {
                case ELOOP: reason = "symbolic link loop"
                case ENOENT where isLink: reason = "dangling symbolic link"
                default: reason = "cannot stat: " + DirectoryScanner.describe(code)
                }
                if wants(rel) { found.append(problem(rel, path, reason)) }
                continue
            }
            switch DirectoryScanner.kind(info.st_mode) {
            case S_IFREG:
                guard wants(rel) else { continue }
                if access(path, R_OK) != 0 {
                    found.append(problem(rel, path, "cannot read: " + DirectoryScanner.describe(errno)))
                    continue
                }
                let mtime = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
                found.append(InputFile(relativePath: rel, path: path, size: Int(info.st_size), mtime: mtime))
            case S_IFDIR:
                // Skip directories that an exclude pattern empties anyway (`tmp/**`).
                if excludeGlobs.contains(where: { $0.matchesEverything(under: rel) }) { continue }
                let id = FileID(info)
                if ancestors.contains(id) {
                    if !excluded(rel) { found.append(problem(rel, path, "symbolic link loop: leads back to an enclosing directory")) }
                    continue
                }
                guard let children = DirectoryScanner.list(path) else {
                    if !excluded(rel) { found.append(problem(rel, path, "cannot open directory: " + DirectoryScanner.describe(errno))) }
                    continue
                }
                ancestors.append(id)
                walk(names: children, directory: path, relative: rel, realRoot: realRoot, ancestors: &ancestors, into: &found)
                ancestors.removeLast()
            case let other:
                if wants(rel) { found.append(problem(rel, path, "not a regular file (\(DirectoryScanner.typeName(other)))")) }
            }
        }
    }

    /// What `lstat` says of an entry under the link policy.
    private enum LinkCheck {
        /// Not a symbolic link: `info` holds its `stat`.
        case notALink
        /// A link to follow, or `lstat` failed: `stat` it (dangling links and loops are
        /// reported by `stat`).
        case followed
        /// A link not followed under the policy, and why.
        case refused(String)
    }

    /// `lstat`s the entry at `path` into `info` and says whether it is a symbolic link the
    /// policy refuses.
    private func linkCheck(_ path: String, realRoot: String, info: inout stat) -> LinkCheck {
        guard lstat(path, &info) == 0 else { return .followed }
        guard DirectoryScanner.kind(info.st_mode) == S_IFLNK else { return .notALink }
        let target = DirectoryScanner.linkTarget(path)
        if symlinks == .never {
            return .refused("symbolic link (→ \(target)) not followed (input.follow_symlinks: never)")
        }
        guard let resolved = DirectoryScanner.realPath(path) else { return .followed }
        if resolved == realRoot || resolved.hasPrefix(realRoot == "/" ? "/" : realRoot + "/") { return .followed }
        return .refused("symbolic link leads outside the input directory (→ \(resolved)); not read (input.follow_symlinks: within; set always to follow it)")
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func linkTarget(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { return "?" }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && kind(info.st_mode) == S_IFDIR
    }

    private func wants(_ relative: String) -> Bool {
        (includeGlobs.isEmpty || includeGlobs.contains { $0.matches(relative) }) && !excluded(relative)
    }

    private func excluded(_ relative: String) -> Bool {
        excludeGlobs.contains { $0.matches(relative) }
    }

    private func problem(_ relative: String, _ path: String, _ reason: String) -> InputFile {
        InputFile(relativePath: relative, path: path, size: 0, mtime: 0, problem: reason)
    }

    // MARK: POSIX helpers

    /// The entry names of a directory (without `.` and `..`), or nil with `errno` set.
    ///
    /// The directory is closed before returning so that deep trees do not hold one
    /// descriptor per level.
    private static func list(_ path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: pointer.pointee)) {
                    String(cString: $0)
                }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names
    }

    private static func kind(_ mode: mode_t) -> mode_t { mode & mode_t(S_IFMT) }

    private static func typeName(_ kind: mode_t) -> String {
        switch kind {
        case S_IFIFO: return "fifo"
        case S_IFSOCK: return "socket"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        default: return "unknown type"
        }
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
