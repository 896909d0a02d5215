/// How XML files become records (the `input.xml` config key).
///
/// ```yaml
/// input:
///   format: xml
///   xml:
///     record: /orders/order          # or a bare name (`order`), or a list of paths
///     arrays: [item]                 # always arrays, however many there are
///     namespaces: keep               # keep (`mml:math`) | strip (`math`)
/// ```
///
/// Every value is a string. The limits guard the parser against hostile documents: each
/// one fails the file with a `parse` error naming the limit and its key.
public struct XMLOptions: Sendable, Equatable {
    /// The elements that delimit one record (`record`); default `/*/*`, the root's children.
    public var records: [XMLRecordPath]
    /// Element names whose values are always arrays (`arrays`).
    public var arrays: [String]
    /// Prefix of attribute keys (`attribute_prefix`, default `@`).
    public var attributePrefix: String
    /// Key of an element's text when it also has attributes or children (`text_key`, default `#text`).
    public var textKey: String
    /// Key that names the record's element (`name_key`, default `#name`). It is written
    /// when `record` lists more than one path or uses `*`, or when set explicitly.
    public var nameKey: String
    /// Whether records carry ``nameKey``.
    public var tagsRecords: Bool
    /// True to drop namespace prefixes from element and attribute names (`namespaces: strip`).
    public var stripsNamespaces: Bool
    /// Deepest element nesting in the document (`max_depth`, default 256).
    public var maxDepth: Int
    /// Most attributes on one start tag (`max_attributes`, default 256).
    public var maxAttributes: Int
    /// Longest markup token — a start or end tag with its attributes, a comment, a
    /// processing instruction, a CDATA section or the DOCTYPE (`max_token_bytes`, default 1 MiB).
    public var maxTokenBytes: Int
    /// Whether one large file is parsed on several cores (`split`): the document is cut
    /// directly below the root into segments of about ``segmentBytes``, each parsed by its
    /// own parser after the document's prolog and root start tag (see ``XMLSegmentedFramer``).
    public var split: XMLSplit
    /// Decoded bytes per segment when splitting.
    public var segmentBytes: Int = 4 << 20
    /// The nesting limit the first stage indexes records with (`input.max_depth`), set by
    /// the run's config: then each record reaches the batch already indexed — its tape
    /// nodes are laid out as its JSON text is written, exactly as ``JSONIndexer`` would
    /// lay them out, so the first stage does not index it again. Nil: records carry no
    /// tape (the first stage indexes them).
    package var jsonMaxDepth: Int?

    public init(records: [XMLRecordPath] = [XMLRecordPath("/*/*")!], arrays: [String] = [], attributePrefix: String = "@",
                textKey: String = "#text", nameKey: String = "#name", tagsRecords: Bool? = nil, stripsNamespaces: Bool = false,
                maxDepth: Int = 256, maxAttributes: Int = 256, maxTokenBytes: Int = 1 << 20,
                split: XMLSplit = .auto) {
        self.split = split
        self.records = records
        self.arrays = arrays
        self.attributePrefix = attributePrefix
        self.textKey = textKey
        self.nameKey = nameKey
        self.tagsRecords = tagsRecords ?? (records.count > 1 || records.contains { $0.hasWildcard })
        self.stripsNamespaces = stripsNamespaces
        self.maxDepth = max(1, maxDepth)
        self.maxAttributes = max(1, maxAttributes)
        self.maxTokenBytes = max(64, maxTokenBytes)
    }
}

/// `input.xml.split`: whether a large XML file is parsed on more than one core.
public enum XMLSplit: String, Sendable, CaseIterable {
    /// Split when it pays: the process may use more than one core and fewer files are
    /// being read at once than it has cores, and the file is larger than one segment.
    case auto
    /// One parser per file, as the file is read.
    case off
    /// Split whatever the cores (at least two parser threads): for measurements and tests.
    case always
}

/// One entry of `input.xml.record`: `/a/b/c` from the root (`*` matches any one element),
/// or a bare name matched at any depth.
public struct XMLRecordPath: Sendable, Equatable, CustomStringConvertible {
    /// Element names from the root, as UTF-8; `nil` is `*`.
    package let steps: [[UInt8]?]
    /// True for `/a/b`; false for a bare name matched at any depth.
    package let isAbsolute: Bool
    public let description: String

    var hasWildcard: Bool { steps.contains { $0 == nil } }

    /// Parses `text`, or returns nil when it is empty, has an empty step, or a bare name
    /// contains `/` or is `*`.
    public init?(_ text: String) {
        description = text
        if text.hasPrefix("/") {
            let parts = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) else { return nil }
            steps = parts.map { $0 == "*" ? nil : Array($0.utf8) }
            isAbsolute = true
        } else {
            guard !text.isEmpty, text != "*", !text.contains("/"), !text.contains(where: \.isWhitespace) else { return nil }
            steps = [Array(text.utf8)]
            isAbsolute = false
        }
    }
}
