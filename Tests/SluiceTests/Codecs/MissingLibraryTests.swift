import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

extension CodecsTests {
    /// A codec whose library is not installed fails its files with the package to
    /// install, and never crashes.
    @Suite struct MissingLibraryTests {
        /// zstd as it behaves on a machine without libzstd.so.1.
        struct AbsentZstd: Codec {
            let name = "zstd", frameNoun = "frame", suffixes = [".zst"], package = "libzstd1"
            func matches(_ head: UnsafeRawBufferPointer) -> Bool { ZstdCodec().matches(head) }
            func makeFrameDecoder(_ options: CodecOptions) throws(CodecError) -> any FrameDecoder {
                guard SharedLibrary("libzstd.so.0.sluice-test-absent") != nil else {
                    throw SharedLibrary.missing("libzstd.so.1", format: name, package: package)
                }
                return try ZstdCodec().makeFrameDecoder(options)
            }
            var encoder: (any BlockEncoder)? { nil }
        }

        @Test func missingLibraryNamesThePackage() throws {
            #expect(SharedLibrary("libzstd.so.0.sluice-test-absent") == nil)
            do {
                _ = try CodecStream(codec: AbsentZstd(), options: CodecOptions())
                Issue.record("a decoder without its library")
            } catch {
                #expect(error.message == "zstd-compressed data, but libzstd.so.1 cannot be loaded: install it with `apt-get install libzstd1`")
            }
            // Through the whole-buffer API too: an error, not a crash.
            let frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0, 0, 0, 0]
            let result: Result<[UInt8], CodecError> = frame.withUnsafeBytes { raw in
                do throws(CodecError) {
                    return .success(try Codecs.decompress(raw, codec: AbsentZstd()))
                } catch {
                    return .failure(error)
                }
            }
            if case .success = result { Issue.record("decoded without its library") }
        }

        @Test func everyCodecNamesItsPackage() {
            for codec in Codecs.all {
                #expect(!codec.package.isEmpty, "\(codec.name)")
                #expect(!codec.suffixes.isEmpty, "\(codec.name)")
            }
            #expect(Codecs.all.map(\.name) == ["gzip", "zstd", "bzip2", "xz", "zlib"])
        }
    }
}
