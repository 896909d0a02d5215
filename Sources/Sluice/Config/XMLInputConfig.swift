import SluiceCore

extension PipelineConfig {
    static let xmlKeys = ConfigSchema.names(ConfigSchema.xml)

    /// `input.xml:` — see ``XMLOptions`` for each key.
    static func buildXML(_ node: ConfigNode) -> XMLOptions? {
        guard let map = node.mapping(allowed: xmlKeys) else { return nil }
        var records: [XMLRecordPath]?
        let x = ConfigSchema.XML.self
        if let texts = map.read(x.record) {
            let recordNode = map["record"] ?? node
            if texts.isEmpty {
                recordNode.report("expected at least one element path")
                records = nil
            } else {
                let parsed = texts.map { XMLRecordPath($0) }
                for (text, path) in zip(texts, parsed) where path == nil {
                    recordNode.report("'\(text)' is not an element path: use /root/element (with * for any one element) or a bare element name")
                }
                records = parsed.contains(nil) ? nil : parsed.compactMap { $0 }
            }
        }
        let arrays = map.read(x.arrays)
        let attributePrefix = map.read(x.attributePrefix)
        let textKey = map.read(x.textKey)
        let nameKey = map.read(x.nameKey)
        let namespaces = map.read(x.namespaces)
        let maxDepth = map.read(x.maxDepth)
        let maxAttributes = map.read(x.maxAttributes)
        let maxToken = map.read(x.maxTokenBytes)
        if let textKey, textKey.isEmpty { map["text_key"]?.report("must not be empty") }
        if let nameKey, nameKey.isEmpty { map["name_key"]?.report("must not be empty") }
        guard let records, let arrays, let attributePrefix, let textKey, !textKey.isEmpty, let nameKey, !nameKey.isEmpty,
              let namespaces, let maxDepth, let maxAttributes, let maxToken else { return nil }
        return XMLOptions(records: records, arrays: arrays, attributePrefix: attributePrefix, textKey: textKey,
                          nameKey: nameKey, tagsRecords: map["name_key"] != nil ? true : nil,
                          stripsNamespaces: namespaces == "strip", maxDepth: maxDepth, maxAttributes: maxAttributes,
                          maxTokenBytes: maxToken)
    }
}
