/// The codec table: every compression format Sluice reads or writes, found by magic
/// number on input and by name on output, plus the containers it recognises only to
/// refuse them by name.
///
/// Adding a codec: one file with a ``Codec`` and one line in ``all``.
public enum Codecs {
    /// Every codec, in detection order.
    public static let all: [any Codec] = [
        GzipCodec(),
        ZstdCodec(),
        Bzip2Codec(),
        XzCodec(),
        ZlibCodec(),
    ]

    /// Bytes of a file's start that detection looks at.
    public static let magicLength = 16

    /// The codec whose magic number starts `head`, or nil for anything else.
    public static func detect(_ head: UnsafeRawBufferPointer) -> (any Codec)? {
        all.first { $0.matches(head) }
    }

    /// The codec called `name` (`output.compression`), or nil.
    public static func named(_ name: String) -> (any Codec)? {
        all.first { $0.name == name }
    }

    /// Names usable as `output.compression` (besides `none`), for the config table.
    public static var encoderNames: [String] { all.filter { $0.encoder != nil }.map(\.name) }

    /// The codec whose suffix ends `name` (case-insensitive), with the name without it:
    /// `a/b.ndjson.zst` → (zstd, `a/b.ndjson`). Nil when no codec's suffix ends it.
    public static func suffix(of name: String) -> (codec: any Codec, stem: String)? {
        let lower = name.lowercased()
        for codec in all {
            for suffix in codec.suffixes where lower.hasSuffix(suffix) && lower.count > suffix.count {
                return (codec, String(name.dropLast(suffix.count)))
            }
        }
        return nil
    }

    /// `name` without a codec's suffix: `x.json.gz` → `x.json`; unchanged otherwise.
    public static func strippingSuffix(_ name: String) -> String {
        suffix(of: name)?.stem ?? name
    }

    /// A container or format Sluice does not read, named from its magic number, for the
    /// one error line that fails such a file (instead of one garbage line per "record").
    public static func foreignContainer(_ head: UnsafeRawBufferPointer) -> String? {
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + magic.count && zip(head[offset..<(offset + magic.count)], magic).allSatisfy { $0 == $1 }
        }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) || starts([0x50, 0x4B, 0x07, 0x08]) { return "a zip archive" }
        if starts([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { return "a 7-Zip archive" }
        if starts([0x04, 0x22, 0x4D, 0x18]) { return "lz4-compressed data" }
        if starts([0xFF, 0x06, 0x00, 0x00, 0x73, 0x4E, 0x61, 0x50, 0x70, 0x59]) { return "snappy-framed data" }
        if starts(Array("LZIP".utf8)) { return "lzip-compressed data" }
        if starts([0x5D, 0x00, 0x00]) { return "lzma-compressed data (the legacy .lzma format)" }
        if starts([0x1F, 0x9D]) { return "compress (.Z) data" }
        if starts(Array("PAR1".utf8)) { return "a Parquet file" }
        if starts(Array("%PDF".utf8)) { return "a PDF document" }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return "a PNG image" }
        if starts(Array("SQLite format 3".utf8)) { return "an SQLite database" }
        if starts(Array("ustar".utf8), at: 257) { return "a tar archive" }
        return nil
    }
}

extension Codecs {
    /// Decodes a whole in-memory buffer of `codec` data (every frame): for page
    /// compression in file formats, tests and benchmarks.
    ///
    /// - Throws: ``CodecError`` for corrupt or truncated data, or a missing library.
    public static func decompress(_ bytes: UnsafeRawBufferPointer, codec: any Codec, options: CodecOptions = CodecOptions()) throws(CodecError) -> [UInt8] {
        var out: [UInt8] = []
        try decode(bytes, codec: codec, options: options) { out.append(contentsOf: $0) }
        return out
    }

    /// Decodes a whole in-memory buffer of `codec` data, handing the decoded bytes to
    /// `body` a chunk (at most 256 KiB) at a time.
    public static func decode(_ bytes: UnsafeRawBufferPointer, codec: any Codec, options: CodecOptions = CodecOptions(),
                              into body: (UnsafeBufferPointer<UInt8>) -> Void) throws(CodecError) {
        let stream = try CodecStream(codec: codec, options: options)
        let room = 256 << 10
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: room)
        defer { buffer.deallocate() }
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        stream.setInput(base, count: bytes.count)
        do throws(StreamError) {
            while true {
                let before = stream.pendingInput
                let n = try stream.decode(into: buffer, capacity: room, inputIsFinal: true)
                if n > 0 { body(UnsafeBufferPointer(start: buffer, count: n)) }
                if n == 0 && (stream.pendingInput == 0 || stream.pendingInput == before) { break }
            }
            while true {
                let n = try stream.finish(into: buffer, capacity: room)
                if n == 0 { break }
                body(UnsafeBufferPointer(start: buffer, count: n))
            }
        } catch {
            throw CodecError("\(codec.name) \(codec.frameNoun) \(error.frame): \(error.message)")
        }
    }

    /// Which library decodes gzip here: `ISA-L (libisal.so.2)` or `zlib`.
    public static func gzipLibrary(_ options: CodecOptions = CodecOptions()) -> String {
        !options.usesFallback && ISAL.library != nil ? "ISA-L (\(ISAL.soname))" : "zlib"
    }
}
