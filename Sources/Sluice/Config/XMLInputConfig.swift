extension PipelineConfig {
    static let xmlKeys = ConfigSchema.names(ConfigSchema.xml)

    /// `input.xml:` — see ``XMLOptions`` for each key.
    static func buildXML(_ node: ConfigNode) -> XMLOptions? {
        guard let map = node.mapping(allowed: xmlKeys) else { return nil }
        var records: [XMLRecordPath]? = [XMLRecordPath("/*/*")!]
        if let recordNode = map["record"], let texts = recordNode.stringList() {
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
        } else if map["record"] != nil {
            records = nil
        }
        let arrays = map["arrays"].map { $0.stringList() } ?? []
        let attributePrefix = map["attribute_prefix"].map { $0.string() } ?? "@"
        let textKey = map["text_key"].map { $0.string() } ?? "#text"
        let nameKey = map["name_key"].map { $0.string() } ?? "#name"
        let namespaces = map["namespaces"].map { $0.choice(["keep", "strip"]) } ?? "keep"
        let maxDepth = map["max_depth"].map { $0.int(in: 1...10_000) } ?? 256
        let maxAttributes = map["max_attributes"].map { $0.int(in: 1...100_000) } ?? 256
        let maxToken = map["max_token_bytes"].map { $0.byteSize(in: 64...(1 << 30)) } ?? (1 << 20)
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
