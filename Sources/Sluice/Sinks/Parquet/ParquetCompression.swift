#if canImport(Glibc)
import Glibc
#endif

/// Compresses one page body with the output's codec: gzip through the project's gzip
/// writer (libdeflate or zlib), zstd through `libzstd.so.1` loaded at run time.
enum ParquetCompression {
    static func compress(_ body: [UInt8], codec: ParquetCodec, level: Int) throws(SinkError) -> [UInt8] {
        switch codec {
        case .none:
            return body
        case .gzip:
            var out: [UInt8] = []
            out.reserveCapacity(body.count / 2 + 64)
            body.withUnsafeBytes { GzipMember.compress($0, level: level, appendingTo: &out) }
            return out
        case .zstd:
            guard let zstd = LibZstd.shared else {
                throw SinkError.limit("parquet compression zstd needs libzstd.so.1 (Debian package libzstd1), which is not on this machine")
            }
            return try zstd.compress(body, level: level)
        }
    }
}

/// libzstd's one-shot compressor, loaded by soname when first used.
final class LibZstd: Sendable {
    typealias Bound = @convention(c) (Int) -> Int
    typealias Compress = @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, Int, Int32) -> Int
    typealias IsError = @convention(c) (Int) -> UInt32

    static let shared: LibZstd? = LibZstd(path: "libzstd.so.1")

    private let bound: Bound
    private let compressFunction: Compress
    private let isError: IsError

    init?(path: String) {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return nil }
        func symbol<T>(_ name: String, as: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
        }
        guard let bound = symbol("ZSTD_compressBound", as: Bound.self),
              let compress = symbol("ZSTD_compress", as: Compress.self),
              let isError = symbol("ZSTD_isError", as: IsError.self) else {
            dlclose(handle)
            return nil
        }
        self.bound = bound
        self.compressFunction = compress
        self.isError = isError
    }

    func compress(_ body: [UInt8], level: Int) throws(SinkError) -> [UInt8] {
        let capacity = bound(body.count)
        var out = [UInt8](repeating: 0, count: capacity)
        let written = out.withUnsafeMutableBytes { dst in
            body.withUnsafeBytes { src in
                compressFunction(dst.baseAddress, capacity, src.baseAddress, src.count, Int32(level))
            }
        }
        if isError(written) != 0 { throw SinkError.limit("zstd could not compress a parquet page") }
        out.removeSubrange(written...)
        return out
    }
}
