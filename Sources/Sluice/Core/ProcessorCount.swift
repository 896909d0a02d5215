import Foundation

/// How many cores this process may run on: what bounds the runtime's CPU-bound threads.
public enum ProcessorCount {
    /// The cores in this process's affinity mask (`taskset -c 0` gives 1), at least 1.
    ///
    /// `ProcessInfo.activeProcessorCount` counts the machine's online cores on Linux and
    /// ignores the mask, so the mask is read from `/proc/self/status`
    /// (`Cpus_allowed_list`; Swift's Glibc module does not expose `sched_getaffinity`).
    public static let available: Int = {
        let online = max(1, ProcessInfo.processInfo.activeProcessorCount)
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
              let allowed = count(list: line.dropFirst("Cpus_allowed_list:".count)) else { return online }
        return max(1, min(online, allowed))
    }()

    /// Cores in a kernel CPU list such as `0-3,8,10-11`; nil when it does not parse.
    static func count(list: Substring) -> Int? {
        var total = 0
        for part in list.split(separator: ",") {
            let bounds = part.trimmingCharacters(in: .whitespaces).split(separator: "-")
            guard let low = bounds.first.flatMap({ Int($0) }) else { return nil }
            let high = bounds.count > 1 ? Int(bounds[1]) : low
            guard let high, high >= low else { return nil }
            total += high - low + 1
        }
        return total > 0 ? total : nil
    }
}
