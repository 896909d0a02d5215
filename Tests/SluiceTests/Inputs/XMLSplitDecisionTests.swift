import Foundation
import Testing
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO

extension InputsTests {
    /// `input.xml.split: auto` decides from ``ReadOptions/concurrentFiles`` (the run sets it
    /// to `min(input.readers, files)`), not from the reads that happen to be running.
    @Suite struct XMLSplitDecisionTests {
        /// Reads `copies` copies of one document at the same time, each on its own thread,
        /// with `concurrentFiles`; returns each read's segments and records.
        private func readTogether(copies: Int, concurrentFiles: Int, split: XMLSplit = .auto) throws -> [(segments: Int, records: [String])] {
            let dir = try TempDir()
            var xml = "<?xml version=\"1.0\"?>\n<orders>\n"
            for i in 0..<400 { xml += "  <order id=\"\(i)\"><status>paid</status><total>\(i).50</total></order>\n" }
            xml += "</orders>\n"
            let files = try (0..<copies).map { try dir.write("doc-\($0).xml", xml) }
            var options = ReadOptions(format: .xml, batchSize: 64, chunkSize: 4096, xml: XMLOptions(records: [XMLRecordPath("/orders/order")!]))
            options.xml.split = split
            options.xml.segmentBytes = 2000
            options.concurrentFiles = concurrentFiles
            let readOptions = options
            let results = LockedBox([Int: (segments: Int, records: [String])]())
            DispatchQueue.concurrentPerform(iterations: copies) { k in
                let (outcome, batches) = readAll(files[k], readOptions)
                results.withLock { $0[k] = (outcome.xmlSegments, texts(batches)) }
            }
            return results.withLock { r in (0..<copies).map { r[$0]! } }
        }

        @Test func oneFileSplitsWhenThereAreCoresToSpareAndManyFilesDoNot() throws {
            let cores = ProcessorCount.available
            let alone = try readTogether(copies: 1, concurrentFiles: 1)
            let unsplit = try readTogether(copies: 1, concurrentFiles: 1, split: .off)
            #expect(unsplit[0].segments == 0)
            #expect(alone[0].records == unsplit[0].records && alone[0].records.count == 400)
            if cores >= 2 {
                #expect(alone[0].segments > 10, "one file on \(cores) cores is split")
            } else {
                #expect(alone[0].segments == 0)
                print("note: \(cores) core available: `auto` never splits here; only `always` was checked")
            }
            // As many files read at once as there are cores (say `readers: 2` with two or
            // more files on two cores): no file is split, whichever reads run side by side.
            for read in try readTogether(copies: 3, concurrentFiles: max(2, cores)) {
                #expect(read.segments == 0)
                #expect(read.records == unsplit[0].records)
            }
            // Reads that run side by side do not change the decision either way: with
            // `concurrentFiles` 1 each of three simultaneous reads splits (on 2+ cores).
            for read in try readTogether(copies: 3, concurrentFiles: 1) {
                #expect((read.segments > 10) == (cores >= 2))
                #expect(read.records == unsplit[0].records)
            }
            // `always` splits whatever the cores and the other files.
            #expect(try readTogether(copies: 1, concurrentFiles: 64, split: .always)[0].segments > 10)
        }

        /// An unsplit gzip XML file is inflated ahead on a helper thread only when the files
        /// read at once leave a core for it; either way the records are the same.
        @Test func inflatingAheadNeedsACoreToSpare() throws {
            #expect(FileReader.inflatesAhead(concurrentFiles: 1, cores: 2))
            #expect(!FileReader.inflatesAhead(concurrentFiles: 2, cores: 2))
            #expect(!FileReader.inflatesAhead(concurrentFiles: 1, cores: 1))
            #expect(!FileReader.inflatesAhead(concurrentFiles: 0, cores: 1))
            #expect(FileReader.inflatesAhead(concurrentFiles: 3, cores: 4))
            let dir = try TempDir()
            var xml = "<?xml version=\"1.0\"?>\n<orders>\n"
            for i in 0..<3000 { xml += "  <order id=\"\(i)\"><status>paid</status><total>\(i).50</total></order>\n" }
            xml += "</orders>\n"
            let file = try dir.write("doc.xml.gz", gzipMember(xml))
            var options = ReadOptions(format: .xml, batchSize: 64, chunkSize: 4096, xml: XMLOptions(records: [XMLRecordPath("/orders/order")!]))
            options.xml.split = .off
            let cores = ProcessorCount.available
            var reads: [(FileReadOutcome, [Batch])] = []
            for files in [1, cores, cores + 1] {
                options.concurrentFiles = files
                reads.append(readAll(file, options))
                #expect(reads.last!.0.inflatedAhead == (cores > files), "\(files) files on \(cores) cores")
                #expect(reads.last!.0.failure == nil && reads.last!.0.records == 3000)
            }
            for read in reads.dropFirst() { #expect(texts(read.1) == texts(reads[0].1)) }
        }

        @Test func theDecisionIsThePlainArithmeticOfCoresAndFiles() {
            let cores = ProcessorCount.available
            var options = XMLOptions()
            options.split = .auto
            #expect(XMLSegmentedFramer.threads(for: options, concurrentFiles: 1) == (cores >= 2 ? cores : nil))
            #expect(XMLSegmentedFramer.threads(for: options, concurrentFiles: cores) == nil)
            #expect(XMLSegmentedFramer.threads(for: options, concurrentFiles: 0) == XMLSegmentedFramer.threads(for: options, concurrentFiles: 1))
            if cores >= 3 { #expect(XMLSegmentedFramer.threads(for: options, concurrentFiles: 2) == cores - 1) }
            options.split = .off
            #expect(XMLSegmentedFramer.threads(for: options, concurrentFiles: 1) == nil)
            options.split = .always
            #expect(XMLSegmentedFramer.threads(for: options, concurrentFiles: 100) == max(2, cores))
        }
    }
}
