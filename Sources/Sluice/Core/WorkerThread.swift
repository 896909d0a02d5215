import CSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A joinable POSIX thread running one closure.
///
/// The runtime uses real threads, not tasks of the cooperative pool, so a stage that
/// blocks (a child process, a slow disk) cannot starve the others; joining every one
/// of them before a run returns is what guarantees that no thread outlives the run.
// `@unchecked`: `thread` is written once in `init`; `join()` is called by the one thread
// that owns the run (or test) the thread belongs to, never concurrently.
package final class WorkerThread: @unchecked Sendable {
    private final class Box {
        let body: () -> Void
        let name: String
        init(_ body: @escaping () -> Void, name: String) {
            self.body = body
            self.name = name
        }
    }

    private var thread: pthread_t
    private var isJoined = false

    /// Starts `body` on a new thread with a 4 MiB stack.
    package init(name: String, _ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 4 << 20)
        defer { pthread_attr_destroy(&attributes) }
        let context = Unmanaged.passRetained(Box(body, name: String(name.utf8.prefix(15)) ?? "sluice")).toOpaque()
        #if canImport(Glibc)
        var handle = pthread_t()
        #else
        var handle: pthread_t?
        #endif
        let result = pthread_create(&handle, &attributes, { raw in
            #if canImport(Glibc)
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            #else
            let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
            #endif
            sluice_set_thread_name(box.name)
            box.body()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        #if canImport(Glibc)
        thread = handle
        #else
        thread = handle!
        #endif
    }

    /// Waits for the thread to finish.
    package func join() {
        guard !isJoined else { return }
        isJoined = true
        pthread_join(thread, nil)
    }
}
