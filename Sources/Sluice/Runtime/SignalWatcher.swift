#if canImport(Glibc)
import Glibc
import SluiceCore
#endif

/// Turns SIGINT and SIGTERM into calls on an ordinary thread, where it is safe to take
/// locks (a signal handler may not).
///
/// `start` blocks both signals in the calling thread — call it on the main thread before
/// any other thread exists, so that every thread inherits the mask — and starts a thread
/// that waits for them with `sigwait(3)` and calls `handler` with each signal number, for
/// as long as the process lives.
///
/// ```swift
/// SignalWatcher.start { signal in run.requestStop(.signal(signal)) }
/// ```
public enum SignalWatcher {
    public static func start(_ handler: @escaping @Sendable (Int32) -> Void) {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let watched = set
        let thread = WorkerThread(name: "sluice-signals") {
            var set = watched
            while true {
                var number: Int32 = 0
                if sigwait(&set, &number) == 0 { handler(number) }
            }
        }
        _ = thread   // never joined: it lives as long as the process
    }
}
