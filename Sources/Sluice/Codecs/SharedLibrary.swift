#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A compression library opened at run time by its soname, so that building Sluice needs
/// none of them and a machine without one still runs every file that does not need it.
///
/// Handles stay open for the life of the process (codecs keep function pointers).
public struct SharedLibrary: @unchecked Sendable {
    // @unchecked: the handle is only passed to dlsym, which is thread-safe.
    private let handle: UnsafeMutableRawPointer
    /// The soname it was opened by.
    let soname: String

    /// Opens `soname`; nil when the library is not installed.
    init?(_ soname: String) {
        guard let handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL) else { return nil }
        self.handle = handle
        self.soname = soname
    }

    /// The function `name` as the C function type `T`, or nil when the library lacks it.
    func function<T>(_ name: String, as type: T.Type) -> T? {
        dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
    }

    /// True when `SLUICE_CODECS` asks for the portable fallbacks only (`zlib`): the tests
    /// use it to run the zlib path on a machine that has the fast libraries.
    public static var forcesFallback: Bool {
        guard let value = getenv("SLUICE_CODECS") else { return false }
        return String(cString: value).lowercased() == "zlib"
    }

    /// The message for a file that needs a library the machine does not have.
    static func missing(_ soname: String, format: String, package: String) -> CodecError {
        CodecError("\(format)-compressed data, but \(soname) cannot be loaded: install it with `apt-get install \(package)`")
    }
}
