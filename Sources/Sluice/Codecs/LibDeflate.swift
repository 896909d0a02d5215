#if canImport(Glibc)
import Glibc
import SluiceCore
#endif

/// libdeflate's whole-buffer gzip compressor, loaded at run time when the shared library
/// is on the machine (`libdeflate.so.0`, Debian's `libdeflate0`), so that building Sluice
/// needs no extra package and a machine without it falls back to zlib.
///
/// Compressing one batch is exactly libdeflate's job (the whole buffer is in memory), and
/// it runs several times faster than zlib at the same level; output compression is the
/// largest single cost of a gzip-writing pipeline. The bytes differ from zlib's, but any
/// gzip reader decompresses them to the same text, and a given machine still writes
/// the same bytes whatever the worker count. Set `SLUICE_NO_LIBDEFLATE=1` (or
/// `SLUICE_CODECS=zlib`) to force zlib.
final class LibDeflate: @unchecked Sendable {
    typealias Alloc = @convention(c) (Int32) -> OpaquePointer?
    typealias Compress = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int, UnsafeMutableRawPointer?, Int) -> Int
    typealias Bound = @convention(c) (OpaquePointer?, Int) -> Int
    typealias Free = @convention(c) (OpaquePointer?) -> Void

    /// The loaded library, or nil when it is missing or disabled.
    static let shared: LibDeflate? = {
        if let flag = getenv("SLUICE_NO_LIBDEFLATE"), String(cString: flag) == "1" { return nil }
        if SharedLibrary.forcesFallback { return nil }
        return LibDeflate(path: "libdeflate.so.0")
    }()

    /// Whatever the environment says (benchmarks compare the libraries).
    static let unforced = LibDeflate(path: "libdeflate.so.0")

    private let alloc: Alloc
    private let compress: Compress
    private let bound: Bound
    private let free: Free
    private let lock = ConditionLock()
    private var idle: [Int32: [OpaquePointer]] = [:]

    init?(path: String) {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return nil }
        func symbol<T>(_ name: String, as: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
        }
        guard let alloc = symbol("libdeflate_alloc_compressor", as: Alloc.self),
              let compress = symbol("libdeflate_gzip_compress", as: Compress.self),
              let bound = symbol("libdeflate_gzip_compress_bound", as: Bound.self),
              let free = symbol("libdeflate_free_compressor", as: Free.self) else {
            dlclose(handle)
            return nil
        }
        self.alloc = alloc
        self.compress = compress
        self.bound = bound
        self.free = free
    }

    /// Appends one gzip member holding `bytes` to `out`; false when libdeflate could
    /// not (the caller then uses zlib).
    func gzip(_ bytes: UnsafeRawBufferPointer, level: Int32, appendingTo out: inout [UInt8]) -> Bool {
        let clamped = max(0, min(12, level < 0 ? 6 : level))
        let compressor: OpaquePointer? = lock.withLock { idle[clamped]?.popLast() } ?? alloc(clamped)
        guard let compressor else { return false }
        defer {
            let kept = lock.withLock { () -> Bool in
                guard idle[clamped, default: []].count < 16 else { return false }
                idle[clamped, default: []].append(compressor)
                return true
            }
            if !kept { free(compressor) }
        }
        let room = bound(compressor, bytes.count)
        let used = out.count
        out.append(contentsOf: repeatElement(0, count: room))
        let written = out.withUnsafeMutableBytes { buffer in
            compress(compressor, bytes.baseAddress, bytes.count, buffer.baseAddress! + used, room)
        }
        out.removeLast(room - written)
        return written > 0
    }
}
