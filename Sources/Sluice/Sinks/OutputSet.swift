import Foundation

/// Every output a run writes, by route and layout, and the all-or-nothing bookkeeping
/// of one input file across them.
///
/// - `merged`: one ``OutputStream`` per route, `NAME-RUNID.EXT` (numbered parts when
///   rotating) in the route's directory.
/// - `mirror`: one stream per input file, at the file's relative path with `.gz` and a
///   format extension (`.ndjson`, `.jsonl`, `.json`, `.xml`, `.csv`) replaced by the
///   output's extension. No run id: a rerun replaces the file atomically at commit.
/// - `partitioned`: one stream per partition directory (`country=DE/NAME-RUNID.EXT`),
///   at most `max_open_partitions` per route and run (each holds a descriptor).
///
/// The sink calls ``beginFile(_:)`` before an input file's first batch, ``append(_:)``
/// for its pieces in order, then ``endFile()`` or ``rollBackFile()``.
package final class OutputSet {
    private let routes: [OutputRoute]
    private let framings: [OutputStream.Framing]
    private let root: String
    private let pipeline: String
    /// The run id in output names: the run's, or with `commit_every` the checkpoint
    /// segment's (``startSegment(runID:)``).
    private(set) var runID: String
    private let filePaths: [String]

    /// Streams that live for the whole run (merged, partitions), in creation order.
    private var streams: [OutputStream] = []
    private var streamIndex: [String: Int] = [:]
    private var streamKeys: [String] = []
    /// Mirror streams finished so far, and their input file.
    private var mirrored: [(file: Int, stream: OutputStream)] = []
    private var mirrorNames: [String: Int] = [:]
    /// The current input file's mirror streams, by route.
    private var mirrorActive: [Int: OutputStream] = [:]
    private var currentFile = 0
    /// Streams the current file touched: their checkpoint, or nil when it created them.
    private var touched: [String: OutputStream.Checkpoint?] = [:]
    private var partitionCounts: [Int: Int] = [:]
    /// The directories the run creates under the output directory, synced at ``finish()``.
    package let directories: OutputDirectories

    package init(routes: [OutputRoute], root: String, pipeline: String, runID: String, filePaths: [String]) {
        self.routes = routes
        self.framings = routes.map { OutputStream.Framing(spec: $0.spec) }
        self.root = root
        self.pipeline = pipeline
        self.runID = runID
        self.filePaths = filePaths
        self.directories = OutputDirectories(root: root)
        openMergedStreams()
    }

    private func openMergedStreams() {
        for (r, route) in routes.enumerated() where route.spec.layout == .merged {
            streamIndex[Self.key(r, "")] = streams.count
            streamKeys.append(Self.key(r, ""))
            streams.append(OutputStream(directory: directory(of: r), baseName: "\(pipeline)-\(runID)",
                                        spec: route.spec, framing: framings[r], runID: runID, directories: directories))
        }
    }

    /// After a checkpoint committed (or discarded) every output: the next files go to new
    /// outputs named with `runID`, the next checkpoint segment's. Mirror names stay
    /// claimed, so two input files still cannot share one mirror output across segments.
    package func startSegment(runID: String) {
        self.runID = runID
        streams.removeAll()
        streamIndex.removeAll()
        streamKeys.removeAll()
        mirrored.removeAll()
        mirrorActive.removeAll()
        touched.removeAll()
        partitionCounts.removeAll()
        openMergedStreams()
    }

    private static func key(_ route: Int, _ partition: String) -> String { "\(route)/\(partition)" }

    private func directory(of route: Int) -> String {
        let dir = routes[route].directory
        return dir.isEmpty ? root : URL(fileURLWithPath: root).appendingPathComponent(dir).path
    }

    func beginFile(_ file: Int) {
        currentFile = file
        touched.removeAll(keepingCapacity: true)
        mirrorActive.removeAll(keepingCapacity: true)
    }

    func append(_ piece: OutputPiece) throws(SinkError) {
        let route = routes[piece.route]
        if route.spec.layout == .mirror {
            try mirrorStream(piece.route).append(piece)
            return
        }
        let key = Self.key(piece.route, piece.partition)
        let stream: OutputStream
        if let index = streamIndex[key] {
            stream = streams[index]
            if touched[key] == nil { touched[key] = .some(stream.checkpoint()) }
        } else {
            let count = partitionCounts[piece.route, default: 0]
            guard count < route.spec.maxOpenPartitions else {
                let name = route.name.isEmpty ? "output" : "route '\(route.name)'"
                throw SinkError.limit("\(name): more than max_open_partitions (\(route.spec.maxOpenPartitions)) partitions in one run "
                                      + "(the next would be '\(piece.partition)'); raise max_open_partitions or partition by a coarser field")
            }
            partitionCounts[piece.route] = count + 1
            stream = OutputStream(directory: URL(fileURLWithPath: directory(of: piece.route)).appendingPathComponent(piece.partition).path,
                                  baseName: "\(pipeline)-\(runID)", spec: route.spec, framing: framings[piece.route], runID: runID,
                                  directories: directories)
            streamIndex[key] = streams.count
            streamKeys.append(key)
            streams.append(stream)
            touched[key] = .some(nil)
        }
        try stream.append(piece)
    }

    private func mirrorStream(_ route: Int) throws(SinkError) -> OutputStream {
        if let stream = mirrorActive[route] { return stream }
        let name = Self.mirrorName(filePaths[currentFile])
        let key = "\(route)/\(name)"
        if let other = mirrorNames[key], other != currentFile {
            throw SinkError.limit("layout mirror: input files '\(filePaths[other])' and '\(filePaths[currentFile])' "
                                  + "would both be written to '\(name).\(routes[route].spec.fileExtension)'; rename one or exclude it")
        }
        mirrorNames[key] = currentFile
        let stream = OutputStream(directory: directory(of: route), baseName: name, spec: routes[route].spec,
                                  framing: framings[route], runID: runID, directories: directories)
        mirrorActive[route] = stream
        return stream
    }

    /// `sub/day.ndjson.gz` → `sub/day` (the output adds its own extension).
    static func mirrorName(_ relativePath: String) -> String {
        var name = relativePath
        name = Codecs.strippingSuffix(name)
        for ext in [".ndjson", ".jsonl", ".json", ".xml", ".csv"] where name.hasSuffix(ext) && name.count > ext.count {
            name.removeLast(ext.count)
            break
        }
        return name
    }

    /// The current file is done: its mirror outputs are finished (an input file with no
    /// records still gets its — empty — output).
    func endFile() throws(SinkError) {
        for (r, route) in routes.enumerated() where route.spec.layout == .mirror {
            let stream = try mirrorStream(r)
            try stream.finish()
            mirrored.append((currentFile, stream))
        }
        mirrorActive.removeAll(keepingCapacity: true)
        touched.removeAll(keepingCapacity: true)
    }

    /// Drops everything the current file added.
    func rollBackFile() throws(SinkError) {
        for stream in mirrorActive.values { stream.discard() }
        for (key, file) in mirrorNames where file == currentFile { mirrorNames[key] = nil }
        mirrorActive.removeAll(keepingCapacity: true)
        var removed: Set<Int> = []
        for (key, checkpoint) in touched {
            guard let index = streamIndex[key] else { continue }
            if let checkpoint {
                try streams[index].rollBack(to: checkpoint)
            } else {
                streams[index].discard()
                removed.insert(index)
                if let route = Int(key.prefix { $0 != "/" }) { partitionCounts[route, default: 1] -= 1 }
            }
        }
        if !removed.isEmpty {
            let kept = streams.indices.filter { !removed.contains($0) }
            streams = kept.map { streams[$0] }
            streamKeys = kept.map { streamKeys[$0] }
            streamIndex.removeAll(keepingCapacity: true)
            for (i, key) in streamKeys.enumerated() { streamIndex[key] = i }
        }
        touched.removeAll(keepingCapacity: true)
    }

    /// Ends every stream (footers, seal) and makes every directory the run created
    /// durable, before the ledger names the outputs (see ``OutputDirectories``).
    func finish() throws(SinkError) {
        for stream in streams { try stream.finish() }
        try directories.syncCreated()
    }

    /// Final paths of every output file, in a stable order: merged and partitioned
    /// streams in creation order, then mirror outputs in input order.
    package var paths: [String] { streams.flatMap(\.paths) + mirrored.flatMap(\.stream.paths) }

    /// The outputs that hold records of input file `file`, when some route mirrors: its
    /// own mirror outputs and the run's other outputs (the ledger's per-file list).
    package func outputs(of file: Int) -> [String] {
        streams.flatMap(\.paths) + mirrored.filter { $0.file == file }.flatMap(\.stream.paths)
    }
    package var hasMirror: Bool { routes.contains { $0.spec.layout == .mirror } }

    var bytesWritten: Int { streams.reduce(0) { $0 + $1.bytesWritten } + mirrored.reduce(0) { $0 + $1.stream.bytesWritten } }

    /// Renames every output into place; `afterFirst` runs after the first rename (a test
    /// hook: a crash there leaves some outputs renamed and some not).
    package func commit(afterFirst: () -> Void = {}) throws(SinkError) {
        var first = true
        for stream in streams + mirrored.map(\.stream) {
            for part in stream.parts {
                try part.commit()
                if first {
                    first = false
                    afterFirst()
                }
            }
        }
        if first { afterFirst() }
    }

    package func discard() {
        for stream in streams { stream.discard() }
        for (_, stream) in mirrored { stream.discard() }
        for stream in mirrorActive.values { stream.discard() }
    }
}
