import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

/// Reads `path` with `chunkSize`, inflating ahead or not, stopping after `limit` chunks;
/// returns the bytes, the fault, and the counters as the reader sees them.
private func drain(_ path: String, chunkSize: Int, ahead: Bool, limit: Int = .max,
                   inspect: (@Sendable (UnsafeBufferPointer<UInt8>) -> String?)? = nil)
    throws -> (bytes: [UInt8], fault: InputFault?, fileBytes: Int, decodedBytes: Int, fingerprint: UInt64?, verdicts: [String]) {
    let input = try DecodedInput(path: path, chunkSize: chunkSize)
    if ahead { #expect(input.startInflatingAhead(inspecting: inspect)) }
    var bytes: [UInt8] = []
    var fault: InputFault?
    var verdicts: [String] = []
    var chunks = 0
    var complete = false
    do throws(InputFault) {
        while chunks < limit {
            guard let chunk = try input.next() else {
                complete = true
                break
            }
            bytes.append(contentsOf: chunk)
            if let verdict = input.chunkVerdict { verdicts.append(verdict) }
            chunks += 1
        }
    } catch {
        fault = error
    }
    input.stopInflatingAhead()
    return (bytes, fault, input.fileBytes, input.decodedBytes, complete ? input.fingerprint : nil, verdicts)
}

private func sameFault(_ a: InputFault?, _ b: InputFault?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (.io(let m1, let o1)?, .io(let m2, let o2)?): return m1 == m2 && o1 == o2
    default: return false
    }
}

extension InputsTests {
    @Suite struct InflateAheadTests {
        private static let text = (0..<2_000).map { "<order id=\"\($0)\"><total>\($0 * 7 % 1000).50</total></order>\n" }.joined()

        @Test(arguments: [64, 1000, 4096])
        func sameChunksCountersAndFingerprintAsInline(chunkSize: Int) throws {
            let dir = try TempDir()
            var member = gzipMember(Self.text)
            member += gzipMember("<!-- a second member -->\n")
            let file = try dir.write("a.xml.gz", member)
            let inline = try drain(file.path, chunkSize: chunkSize, ahead: false)
            let ahead = try drain(file.path, chunkSize: chunkSize, ahead: true)
            #expect(inline.fault == nil && ahead.fault == nil)
            #expect(ahead.bytes == inline.bytes)
            #expect(ahead.bytes == Array((Self.text + "<!-- a second member -->\n").utf8))
            #expect(ahead.fileBytes == inline.fileBytes && ahead.decodedBytes == inline.decodedBytes)
            #expect(ahead.fingerprint != nil && ahead.fingerprint == inline.fingerprint)
        }

        @Test func stoppingEarlyReportsWhatWasHandedOut() throws {
            let dir = try TempDir()
            let file = try dir.write("a.xml.gz", gzipMember(Self.text))
            for limit in [0, 1, 3] {
                let inline = try drain(file.path, chunkSize: 256, ahead: false, limit: limit)
                let ahead = try drain(file.path, chunkSize: 256, ahead: true, limit: limit)
                #expect(ahead.bytes == inline.bytes)
                #expect(ahead.fileBytes == inline.fileBytes, "limit \(limit)")
                #expect(ahead.decodedBytes == inline.decodedBytes, "limit \(limit)")
            }
        }

        @Test func corruptDataFailsAtTheSameOffsetAfterTheSameBytes() throws {
            let dir = try TempDir()
            var member = gzipMember(Self.text)
            let truncated = try dir.write("t.xml.gz", Array(member.prefix(member.count / 2)))
            member[member.count - 6] ^= 0xFF  // the CRC
            let corrupt = try dir.write("c.xml.gz", member)
            for file in [truncated, corrupt] {
                let inline = try drain(file.path, chunkSize: 128, ahead: false)
                let ahead = try drain(file.path, chunkSize: 128, ahead: true)
                #expect(inline.fault != nil)
                #expect(sameFault(ahead.fault, inline.fault), "\(String(describing: ahead.fault))")
                #expect(ahead.bytes == inline.bytes)
                #expect(ahead.fileBytes == inline.fileBytes && ahead.decodedBytes == inline.decodedBytes)
            }
        }

        @Test func inspectorSeesEveryChunkInOrder() throws {
            let dir = try TempDir()
            let file = try dir.write("a.xml.gz", gzipMember(Self.text))
            final class Seen: @unchecked Sendable { var bytes: [UInt8] = [] }
            let seen = Seen()
            let ahead = try drain(file.path, chunkSize: 300, ahead: true) { chunk in
                seen.bytes.append(contentsOf: chunk)
                return seen.bytes.count > 50_000 ? "over" : nil
            }
            #expect(seen.bytes == ahead.bytes)
            #expect(ahead.verdicts.first == "over")
        }

        @Test func smallAndPlainFilesDoNotStartAThread() throws {
            let dir = try TempDir()
            let small = try dir.write("s.xml.gz", gzipMember("<r/>"))
            let plain = try dir.write("p.xml", Self.text)
            #expect(try DecodedInput(path: small.path, chunkSize: 1 << 16).startInflatingAhead() == false)
            #expect(try DecodedInput(path: plain.path, chunkSize: 64).startInflatingAhead() == false)
        }

        /// End to end: a gzip XML file of many chunks, guard on the helper thread.
        @Test func xmlRecordsAndGuardVerdictsMatchTheInlinePath() throws {
            let dir = try TempDir()
            let xml = "<orders>\n" + Self.text + "</orders>\n"
            let plain = try dir.write("a.xml", xml)
            let zipped = try dir.write("a.xml.gz", gzipMember(xml))
            let options = ReadOptions(format: .auto, batchSize: 100, chunkSize: 97,
                                      xml: XMLOptions(records: [XMLRecordPath("/orders/order")!]))
            let (inlineOutcome, inline) = readAll(plain, options)
            let (aheadOutcome, ahead) = readAll(zipped, options)
            #expect(inlineOutcome.failure == nil && aheadOutcome.failure == nil)
            #expect(texts(ahead) == texts(inline) && texts(ahead).count == 2_000)
            #expect(aheadOutcome.decodedBytes == xml.utf8.count)

            let hostile = "<orders>\n" + Self.text + "<order " + (0..<300).map { "a\($0)='1'" }.joined(separator: " ") + "/></orders>\n"
            let bad = try dir.write("b.xml.gz", gzipMember(hostile))
            let (badOutcome, badBatches) = readAll(bad, options)
            #expect(badOutcome.failure?.message.contains("input.xml.max_attributes (256)") == true)
            #expect(texts(badBatches).count == 2_000)  // framed before the failure, withheld by the sink
        }
    }
}
