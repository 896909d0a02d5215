/// `output.compression`: `none`, or the name of a codec in ``Codecs`` that can write
/// (`gzip`, `zstd`). Config names it `OutputConfig.Compression`.
public struct OutputCompression: RawRepresentable, Sendable, Hashable {
    public let rawValue: String

    /// Nil for a name that is neither `none` nor a writable codec.
    public init?(rawValue: String) {
        guard rawValue == "none" || Codecs.named(rawValue)?.encoder != nil else { return nil }
        self.rawValue = rawValue
    }

    public static let none = OutputCompression(rawValue: "none")!
    public static let gzip = OutputCompression(rawValue: "gzip")!

    /// Every accepted value, `none` first (the config key's choices).
    public static var names: [String] { ["none"] + Codecs.encoderNames }

    /// The codec, nil for `none`.
    public var codec: (any Codec)? { Codecs.named(rawValue) }
    var encoder: (any BlockEncoder)? { codec?.encoder }
    /// The file name suffix it adds (`.gz`, `.zst`; empty for `none`).
    public var suffix: String { codec?.suffixes.first ?? "" }
    /// `output.level` when the config does not set it.
    public var defaultLevel: Int { encoder?.defaultLevel ?? 6 }
    /// The levels `output.level` accepts with this codec (with `none`, any codec's).
    public var levels: ClosedRange<Int> { encoder?.levels ?? OutputCompression.anyLevel }

    /// Every level some codec accepts (the config key's range).
    public static var anyLevel: ClosedRange<Int> {
        let ranges = Codecs.all.compactMap(\.encoder).map(\.levels)
        return (ranges.map(\.lowerBound).min() ?? 1)...(ranges.map(\.upperBound).max() ?? 9)
    }
}

extension OutputSpec {
    /// The level frames are written at: `level`, or the codec's default.
    package var effectiveLevel: Int { level ?? compression.defaultLevel }

    /// `bytes` as written to the file: compressed into one frame of the output's codec,
    /// or unchanged for `none`.
    ///
    /// - Parameter keepsEmpty: compress empty input too (an empty frame): a file must
    ///   be a valid file of its codec even when it holds no record.
    package func encode(_ bytes: [UInt8], keepsEmpty: Bool = false) -> [UInt8] {
        guard let encoder = compression.encoder, keepsEmpty || !bytes.isEmpty else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 3 + 64)
        bytes.withUnsafeBytes { encoder.compress($0, level: effectiveLevel, appendingTo: &out) }
        return out
    }
}
