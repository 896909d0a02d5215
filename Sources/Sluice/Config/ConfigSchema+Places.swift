import SluiceCore

/// Where each key of the config lives, for "did you mean" across the tree: a key written
/// at the wrong level (`include:` at the top instead of under `input:`) names its parent.
extension ConfigSchema {
    /// Every section's full key paths.
    static let places: [String] = {
        var paths: [String] = []
        func add(_ keys: [ConfigKey], under prefix: String) {
            paths += keys.map { prefix.isEmpty ? $0.name : "\(prefix).\($0.name)" }
        }
        add(top, under: "")
        add(input, under: "input")
        add(xml, under: "input.xml")
        add(output, under: "output")
        add(errors, under: "errors")
        add(defaults, under: "defaults")
        return paths
    }()

    /// The full path of `key` in a section other than the one at `path` (the key path of
    /// the mapping that holds it, `""` for the top), when exactly one section has it.
    static func place(of key: String, outside path: String) -> String? {
        let parent = path.split(separator: "[").first.map(String.init) ?? path
        let candidates = places.filter { place in
            let parts = place.split(separator: ".")
            return parts.last.map(String.init) == key && parts.dropLast().joined(separator: ".") != parent
        }
        return candidates.count == 1 ? candidates[0] : nil
    }
}
