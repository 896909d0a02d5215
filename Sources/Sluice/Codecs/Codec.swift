/// One compression format in Sluice's codec table (``Codecs``).
///
/// A codec is found on input by its magic number, never by the file name, and chosen on
/// output by `output.compression`. Its decoder works one frame at a time (a gzip member,
/// a zstd frame, a bzip2 stream); ``CodecStream`` strings the frames of a file together,
/// so every codec reads concatenated files, zero padding and truncation the same way.
///
/// Adding a codec is one file that conforms to this protocol and one line in
/// ``Codecs/all``:
///
/// ```swift
/// struct LZ4Codec: Codec {
///     let name = "lz4", frameNoun = "frame", suffixes = [".lz4"], package = "liblz4-1"
///     func matches(_ head: UnsafeRawBufferPointer) -> Bool { head.starts(with: [0x04, 0x22, 0x4D, 0x18]) }
///     func makeFrameDecoder(_ options: CodecOptions) throws(CodecError) -> any FrameDecoder { ... }
///     var encoder: (any BlockEncoder)? { nil }
/// }
/// ```
public protocol Codec: Sendable {
    /// The name used in `output.compression` and in messages (`gzip`, `zstd`).
    var name: String { get }
    /// What one unit of the format is called in messages: `member`, `frame`, `stream`.
    var frameNoun: String { get }
    /// File name suffixes, the one Sluice writes first (`.gz`).
    var suffixes: [String] { get }
    /// The Debian package that holds the library it loads (named in errors).
    var package: String { get }
    /// True when `head`, the first bytes of a file (at least ``Codecs/magicLength`` of
    /// them unless the file is shorter), starts a frame of this format.
    func matches(_ head: UnsafeRawBufferPointer) -> Bool
    /// A decoder for the frames of one file.
    ///
    /// - Throws: ``CodecError`` naming the library and the package to install when the
    ///   library cannot be loaded.
    func makeFrameDecoder(_ options: CodecOptions) throws(CodecError) -> any FrameDecoder
    /// The encoder, when Sluice can write the format.
    var encoder: (any BlockEncoder)? { get }
}

/// Decodes the frames of one compressed file, one frame at a time.
///
/// The caller (``CodecStream``) owns both buffers. Not thread-safe: one file, one decoder.
public protocol FrameDecoder: AnyObject {
    /// Decodes from `input` into `output`.
    ///
    /// Returns how much it consumed and produced, and whether the frame ended (its
    /// checksum read and checked). A step that consumes and produces nothing needs more
    /// input, or more room when the library holds decoded bytes back.
    /// - Throws: ``CodecError`` for corrupt data, with the library's words.
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> DecodeStep
    /// Readies the decoder for the next frame of the file.
    func reset() throws(CodecError)
    /// The file ended inside a frame: flushes what a decoder that handles the framing
    /// itself (xz) still holds. The default says the frame is incomplete (truncated).
    func finish(into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> DecodeStep
}

extension FrameDecoder {
    public func finish(into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> DecodeStep {
        DecodeStep(consumed: 0, produced: 0, frameEnded: false)
    }
}

/// What one ``FrameDecoder/decode(_:into:)`` call did.
public struct DecodeStep: Sendable, Equatable {
    public var consumed: Int
    public var produced: Int
    public var frameEnded: Bool

    public init(consumed: Int, produced: Int, frameEnded: Bool) {
        self.consumed = consumed
        self.produced = produced
        self.frameEnded = frameEnded
    }
}

/// Compresses whole buffers into self-contained frames, for outputs.
///
/// Each call appends one complete frame; frames compressed independently — on different
/// threads, from consecutive batches — concatenate into one valid file that the
/// format's own tool decompresses to the concatenated text. The bytes depend only on the
/// input, the level and the library, never on timing or worker counts. Thread-safe.
public protocol BlockEncoder: Sendable {
    /// Accepted `output.level` values.
    var levels: ClosedRange<Int> { get }
    /// The level when `output.level` is not set.
    var defaultLevel: Int { get }
    /// Appends one frame holding `bytes` (possibly empty: an empty frame is still a
    /// valid file of the format) to `out`.
    func compress(_ bytes: UnsafeRawBufferPointer, level: Int, appendingTo out: inout [UInt8])
}

/// Corrupt data, or a library that cannot be loaded.
public struct CodecError: Error, Sendable, Equatable {
    /// The problem, in the library's words where it has them (`incorrect data check`).
    public var message: String
    /// How many bytes before the end of the consumed input the problem lies (a checksum
    /// read as part of a longer trailer), so the reported offset points at it.
    public var rewind: Int
    /// Input bytes the failing call consumed before it stopped (set by ``consumed(_:)``).
    public var consumed = 0

    public init(_ message: String, rewind: Int = 0) {
        self.message = message
        self.rewind = rewind
    }

    /// The error, noting that the failing call consumed `count` input bytes.
    public func consumed(_ count: Int) -> CodecError {
        var error = self
        error.consumed = count
        return error
    }
}

/// Decoder settings from the input config.
public struct CodecOptions: Sendable, Equatable {
    /// The largest window a decoder may allocate (`input.max_window`): zstd frames that
    /// declare a larger one and xz streams whose dictionary needs more are refused.
    /// The default, 2 GiB, reads `zstd --long=31`.
    public var maxWindow: Int
    /// Threads a large multi-stream bzip2 file may be decoded on (at most the cores).
    public var decodeThreads: Int
    /// Decode gzip with zlib even where ISA-L is installed (default: `SLUICE_CODECS=zlib`).
    public var usesFallback: Bool
    /// Decoding fails once a file's output passes `maxExpansion` bytes per byte read
    /// and at least `expansionFloor` bytes: no real JSON or XML compresses that well, so
    /// it is a decompression bomb, stopped before it runs for hours.
    public var maxExpansion = 20_000
    public var expansionFloor = 1 << 30
    /// Compressed bytes per segment of a bzip2 file decoded on several threads; files
    /// from twice this size on are split (see ``ParallelBzip2``).
    public var bzip2Segment = 512 << 10

    public static let defaultMaxWindow = 1 << 31

    public init(maxWindow: Int = CodecOptions.defaultMaxWindow, decodeThreads: Int = CodecOptions.defaultDecodeThreads,
                usesFallback: Bool = SharedLibrary.forcesFallback) {
        self.maxWindow = max(1 << 10, maxWindow)
        self.decodeThreads = max(1, min(decodeThreads, CodecOptions.cores))
        self.usesFallback = usesFallback
    }

    /// The most memory decoding one file may take, for `sluice explain`'s bound (times
    /// `input.readers`): the larger of a zstd/xz window (``maxWindow``, plus the
    /// decoder's buffers) and a bzip2 file on ``decodeThreads`` threads (``ParallelBzip2``:
    /// `threads + 2` segments of at most 8 × ``bzip2Segment`` compressed bytes and
    /// 16 MiB decoded each). The read and decoded chunks are counted by the reader.
    public var decoderMemoryBound: Int {
        let window = maxWindow + (2 << 20)
        let bzip2 = (decodeThreads > 1 ? decodeThreads + 2 : 1) * (8 * bzip2Segment + (16 << 20))
        return max(window, bzip2)
    }

    /// The cores, or `SLUICE_DECODE_THREADS` (benchmarks compare 1 and 2).
    public static var defaultDecodeThreads: Int {
        if let value = getenv("SLUICE_DECODE_THREADS"), let n = Int(String(cString: value)), n >= 1 { return n }
        return cores
    }

    /// Cores online.
    public static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

import Foundation
