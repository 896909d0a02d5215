import Foundation

/// How many cores this process may run on: what bounds the runtime's CPU-bound threads
/// and what `workers: auto` means.
public enum ProcessorCount {
    /// The cores in this process's affinity mask (`taskset -c 0` gives 1), at least 1.
    public static let available: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
}
