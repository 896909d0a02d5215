import Testing
import Foundation
@testable import Sluice
@testable import SluiceCore
@testable import SluiceIO
@testable import SluiceStages

@Suite struct BoundedQueueTests {
    @Test func deliversInOrderAndDrainsAfterClose() {
        let queue = BoundedQueue<Int>(capacity: 3)
        #expect(queue.push(1))
        #expect(queue.push(2))
        queue.close()
        #expect(queue.pop() == 1)
        #expect(queue.pop() == 2)
        #expect(queue.pop() == nil)
        #expect(queue.highWaterMark == 2)
    }

    @Test func fullQueueBlocksProducerUntilConsumed() {
        let queue = BoundedQueue<Int>(capacity: 2)
        let producer = WorkerThread(name: "producer") {
            for i in 0..<100 { queue.push(i) }
            queue.close()
        }
        var received: [Int] = []
        while let item = queue.pop() { received.append(item) }
        producer.join()
        #expect(received == Array(0..<100))
        #expect(queue.highWaterMark <= 2)
    }

    @Test func cancelWakesBlockedProducerAndConsumer() {
        let full = BoundedQueue<Int>(capacity: 1)
        full.push(0)
        let empty = BoundedQueue<Int>(capacity: 1)
        let results = ResultBox()
        let producer = WorkerThread(name: "p") { results.set("push", full.push(1)) }
        let consumer = WorkerThread(name: "c") { results.set("pop", empty.pop() != nil) }
        full.cancel()
        empty.cancel()
        producer.join()
        consumer.join()
        #expect(results.get("push") == false)
        #expect(results.get("pop") == false)
    }
}

final class ResultBox: Sendable {
    private let values = LockedBox([String: Bool]())
    func set(_ key: String, _ value: Bool) { values.withLock { $0[key] = value } }
    func get(_ key: String) -> Bool? { values.withLock { $0[key] } }
}

@Suite struct AdmissionGateTests {
    @Test func headFileIsAdmittedPastCapacity() {
        let gate = AdmissionGate(capacity: 1)
        #expect(gate.acquire(file: 0))
        #expect(gate.acquire(file: 0))  // the head file never waits
        let admitted = ResultBox()
        let reader = WorkerThread(name: "r") { admitted.set("file1", gate.acquire(file: 1)) }
        gate.release(2)
        reader.join()
        #expect(admitted.get("file1") == true)
    }

    @Test func advancingTheHeadAdmitsTheWaitingReader() {
        let gate = AdmissionGate(capacity: 1)
        #expect(gate.acquire(file: 1))
        let admitted = ResultBox()
        let reader = WorkerThread(name: "r") { admitted.set("file2", gate.acquire(file: 2)) }
        gate.advanceHead(to: 2)
        reader.join()
        #expect(admitted.get("file2") == true)
    }

    @Test func parkedBytesHoldReadersAheadOfTheHeadFile() {
        let gate = AdmissionGate(capacity: 100, parkedByteCapacity: 1000)
        #expect(gate.acquire(file: 1))
        gate.park(bytes: 600)
        #expect(gate.acquire(file: 1))   // under the byte room: admitted
        gate.park(bytes: 600)
        #expect(gate.parkedBytes == 1200)
        #expect(gate.acquire(file: 0))   // the head file never waits, whatever is parked
        let admitted = ResultBox()
        let reader = WorkerThread(name: "r") { admitted.set("file2", gate.acquire(file: 2)) }
        usleep(20_000)
        #expect(admitted.get("file2") == nil)   // over the byte room: waits, though tickets are free
        gate.unpark(bytes: 600)
        reader.join()
        #expect(admitted.get("file2") == true)
        #expect(gate.parkedBytes == 600)
    }

    @Test func cancelReleasesWaiters() {
        let gate = AdmissionGate(capacity: 1)
        #expect(gate.acquire(file: 3))
        let admitted = ResultBox()
        let reader = WorkerThread(name: "r") { admitted.set("x", gate.acquire(file: 4)) }
        gate.cancel()
        reader.join()
        #expect(admitted.get("x") == false)
    }
}

@Suite struct ReorderWindowTests {
    private func drain(_ window: inout ReorderWindow<String>) -> [String] {
        var actions: [String] = []
        while let action = window.next() {
            switch action {
            case .commit(let item): actions.append(item)
            case .fileDone(let file, let failure): actions.append("done\(file)\(failure == nil ? "" : "!")")
            }
        }
        return actions
    }

    @Test func commitsInFileThenBatchOrder() {
        var window = ReorderWindow<String>(fileCount: 2)
        window.insert("1.0", file: 1, batch: 0)
        window.finishFile(1, batches: 1, failure: nil)
        window.insert("0.1", file: 0, batch: 1)
        #expect(drain(&window) == [])
        window.insert("0.0", file: 0, batch: 0)
        #expect(drain(&window) == ["0.0", "0.1"])
        window.finishFile(0, batches: 2, failure: nil)
        #expect(drain(&window) == ["done0", "1.0", "done1"])
        #expect(window.isFinished)
    }

    @Test func fileWithoutBatchesAndFailedFile() {
        var window = ReorderWindow<String>(fileCount: 2)
        window.finishFile(0, batches: 0, failure: nil)
        window.finishFile(1, batches: 1, failure: RecordError(file: "b", stage: "input", kind: .io, message: "x"))
        #expect(drain(&window) == ["done0"])
        window.insert("1.0", file: 1, batch: 0)
        #expect(drain(&window) == ["1.0", "done1!"])
    }
}

/// A push wakes one consumer and a pop one producer (not everyone): with several of each
/// on a queue of one slot, no wake-up may be lost — every item arrives, nothing hangs.
///
/// Every item is a hand-off between threads, and on a loaded 2-core machine (two test runs
/// side by side) each one waits out scheduler latency: 8,000 took minutes there. So the
/// test does not time the run: a watchdog fails it only when nothing moves for 30 s (a lost
/// wake-up leaves every thread asleep for good), and then cancels the queue so it ends.
@Suite struct BoundedQueueWakeOneTests {
    @Test func manyProducersAndConsumersOnOneSlot() {
        let queue = BoundedQueue<Int>(capacity: 1)
        let received = LockedBox([Int]())
        let done = LockedBox(false)
        let stalled = LockedBox(false)
        let watchdog = WorkerThread(name: "watchdog") {
            var seen = -1
            var since = ProcessInfo.processInfo.systemUptime
            while !done.withLock({ $0 }) {
                usleep(50_000)
                let count = received.withLock { $0.count }
                let now = ProcessInfo.processInfo.systemUptime
                if count != seen {
                    seen = count
                    since = now
                } else if now - since > 30 {
                    stalled.withLock { $0 = true }
                    queue.cancel()
                    return
                }
            }
        }
        let producers = (0..<4).map { p in
            WorkerThread(name: "producer-\(p)") { for i in 0..<2000 { queue.push(p * 10_000 + i) } }
        }
        let consumers = (0..<4).map { c in
            WorkerThread(name: "consumer-\(c)") {
                while let item = queue.pop() { received.withLock { $0.append(item) } }
            }
        }
        for p in producers { p.join() }
        queue.close()
        for c in consumers { c.join() }
        done.withLock { $0 = true }
        watchdog.join()
        #expect(!stalled.withLock { $0 }, "no item moved for 30 s: a wake-up was lost")
        let items = received.withLock { $0 }
        #expect(items.count == 8000)
        #expect(Set(items).count == 8000)
        #expect(queue.highWaterMark == 1)
    }
}
