import CLibXML2
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The elements of one XML record as the parser reports them, kept in flat arrays that
/// are reused from record to record, and written out as the record's JSON text.
///
/// Names are libxml2's interned strings: within one parse, two names are equal exactly
/// when their pointers are, so grouping repeated children costs pointer comparisons (a
/// hash lookup only below elements with many distinct child names) and no `String`.
/// XML names cannot hold `"`, `\` or control characters, so they are copied into the
/// JSON text without escaping.
///
/// The mapping, for the record element and everything below it:
/// - attributes become keys `attribute_prefix + name`, in document order, first;
/// - child elements become keys in order of first appearance; a name that occurs more
///   than once, or is listed in `arrays`, holds an array of the values in document order;
/// - an element with neither attributes nor children is the string of its text (`""`
///   when it has none); otherwise its text, if any, goes under `text_key`, last;
/// - text is the concatenation, in document order, of the element's own character data
///   and CDATA, leaving out runs that are whitespace only (text interleaved with child
///   elements — mixed content — keeps its order but not its position among the children).
/// The record element is always an object, led by `name_key` when records are tagged.
///
/// All storage is ``XMLScratch`` memory reused from record to record (the callbacks do no
/// allocation and no reference counting once it has grown to the largest record); the
/// owner calls ``deallocate()`` once at the end.
package struct XMLRecordTree {
    package typealias Name = UnsafePointer<xmlChar>

    struct Node {
        var prefix: Name?
        var local: Name
        var prefixLength: Int32
        var localLength: Int32
        var firstAttribute: Int32
        var attributeCount: Int32 = 0
        var firstText: Int32 = -1
        var lastText: Int32 = -1
        /// The first child of each distinct name, linked through `nextGroup`.
        var firstGroup: Int32 = -1
        var lastGroup: Int32 = -1
        var groupKinds: Int32 = 0
        var nextGroup: Int32 = -1
        /// The next sibling with the same name.
        var nextSame: Int32 = -1
        /// For a group's first element: its last element and its size.
        var groupTail: Int32 = -1
        var groupCount: Int32 = 0
        var groupHead: Int32 = -1
        var lastChild: Int32 = -1
        var isArrayGroup = false
        /// True once some text segment of the element is not whitespace only.
        var hasText = false
    }

    struct Attribute {
        var prefix: Name?
        var local: Name
        var prefixLength: Int32
        var localLength: Int32
        var start: Int32
        var end: Int32
    }

    /// A run of text that the parser reported in contiguous pieces.
    struct Segment {
        var start: Int32
        var end: Int32
        package var next: Int32 = -1
        /// True while every piece of the run is whitespace only (such runs are dropped).
        var isBlank: Bool
        /// True once a child element started after it: later text is a new run, even when
        /// its bytes follow on in the buffer (an empty child `<c/>` adds none).
        var isClosed = false
    }

    private struct GroupKey: Hashable {
        var parent: Int32
        var prefix: UnsafeRawPointer?
        var local: UnsafeRawPointer
    }

    /// A name's lengths and its keys' JSON text, by interned name (see ``nameEntry(prefix:local:)``).
    private struct NameEntry {
        var prefix: Name?
        var local: Name?
        var prefixLength: Int32 = 0
        var localLength: Int32 = 0
        /// `,"name":` and `,"<attribute prefix>name":` in `keyBytes` (start, count); count 0
        /// until first written.
        var elementKeyStart: Int32 = 0
        var elementKeyCount: Int32 = 0
        var attributeKeyStart: Int32 = 0
        var attributeKeyCount: Int32 = 0
    }

    private struct ArrayNameEntry {
        var prefix: Name?
        var local: Name?
        var isArray: Bool
    }

    /// Below this many distinct child names a linear scan beats hashing.
    private static let linearGroups: Int32 = 12

    private var nodes = XMLScratch<Node>()
    private var attributes = XMLScratch<Attribute>()
    private var segments = XMLScratch<Segment>()
    private var text = XMLScratch<UInt8>(capacity: 4096)
    /// The record's JSON text, written by ``write(tagged:)``.
    private var output = XMLScratch<UInt8>(capacity: 4096)
    private var groups: [GroupKey: Int32] = [:]
    /// Open elements of the record, innermost last.
    private var open = XMLScratch<Int32>()
    /// Answers of ``isArrayName(_:)`` by interned name, 64 slots; a document has few distinct names.
    private var arrayNameCache = XMLScratch<ArrayNameEntry>(capacity: 64)
    /// ``NameEntry`` by interned name, 256 direct-mapped slots (a colliding name replaces
    /// the entry), and the keys' bytes they point into, cleared past ``keyBytesLimit``.
    private var nameCache = XMLScratch<NameEntry>(capacity: 256)
    private var keyBytes = XMLScratch<UInt8>(capacity: 4096)
    private static let keyBytesLimit = 1 << 20
    /// Approximate size of the record's JSON, checked against `max_record_bytes`.
    package private(set) var size = 0

    // The record's tape (see ``write(tagged:byteBase:tapeBase:)``).
    private var tape = XMLTapeScratch(capacity: 256)
    /// Batch offset of the record's first byte, and tape index of its first node.
    private var byteBase = 0
    private var tapeBase = 0
    /// False once the record's text holds something only the JSON indexer should judge
    /// (malformed UTF-8, nesting past `tapeMaxDepth`): then the record has no tape.
    private var tapeIsExact = true
    private let tapeMaxDepth: Int
    private let attributeKeyFlags: UInt8
    private let textKeyFlags: UInt8
    private let nameKeyFlags: UInt8

    private let stripsNamespaces: Bool
    private let arrayNames: [[UInt8]]
    private let attributeKeyPrefix: XMLScratch<UInt8>
    private let textKey: XMLScratch<UInt8>
    private let nameKey: XMLScratch<UInt8>

    package init(options: XMLOptions) {
        stripsNamespaces = options.stripsNamespaces
        arrayNames = options.arrays.map { Array($0.utf8) }
        attributeKeyPrefix = XMLRecordTree.escaped(options.attributePrefix)
        textKey = XMLRecordTree.escaped(options.textKey)
        nameKey = XMLRecordTree.escaped(options.nameKey)
        for _ in 0..<64 { arrayNameCache.append(ArrayNameEntry(prefix: nil, local: nil, isArray: false)) }
        for _ in 0..<256 { nameCache.append(NameEntry()) }
        tapeMaxDepth = options.jsonMaxDepth ?? 0
        attributeKeyFlags = XMLRecordTree.escapeFlags(attributeKeyPrefix)
        textKeyFlags = XMLRecordTree.escapeFlags(textKey)
        nameKeyFlags = XMLRecordTree.escapeFlags(nameKey)
    }

    /// ``TapeEntry/hasEscapes`` when the escaped literal holds a backslash (names never do).
    private static func escapeFlags(_ literal: XMLScratch<UInt8>) -> UInt8 {
        memchr(literal.base, 0x5C, literal.count) != nil ? TapeEntry.hasEscapes : 0
    }

    /// Frees the storage; the tree must not be used afterwards.
    package func deallocate() {
        nodes.deallocate()
        attributes.deallocate()
        segments.deallocate()
        text.deallocate()
        output.deallocate()
        tape.deallocate()
        open.deallocate()
        arrayNameCache.deallocate()
        nameCache.deallocate()
        keyBytes.deallocate()
        attributeKeyPrefix.deallocate()
        textKey.deallocate()
        nameKey.deallocate()
    }

    private static func escaped(_ text: String) -> XMLScratch<UInt8> {
        var out = XMLScratch<UInt8>(capacity: max(1, text.utf8.count * 6))
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { out.appendJSONEscaped(base, count: $0.count) } }
        bytes.removeAll()
        return out
    }

    package mutating func reset() {
        nodes.removeAll()
        attributes.removeAll()
        segments.removeAll()
        text.removeAll()
        if !groups.isEmpty { groups.removeAll(keepingCapacity: true) }
        open.removeAll()
        size = 0
    }

    /// Opens an element below the innermost open one (or as the record root).
    /// `attributes` is libxml2's array of five pointers per attribute.
    package mutating func startElement(prefix: Name?, local: Name, attributeCount: Int, attributes raw: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        let prefix = stripsNamespaces ? nil : prefix
        let index = Int32(nodes.count)
        let entry = nameEntry(prefix: prefix, local: local)
        let localLength = Int(entry.pointee.localLength)
        let prefixLength = Int(entry.pointee.prefixLength)
        var node = Node(prefix: prefix, local: local, prefixLength: Int32(prefixLength), localLength: Int32(localLength),
                        firstAttribute: Int32(attributes.count))
        size += localLength + prefixLength + 8
        if let parent = open.last, nodes[parent].lastText >= 0 { segments[nodes[parent].lastText].isClosed = true }
        if let raw, attributeCount > 0 {
            for a in 0..<attributeCount {
                guard let name = raw[5 * a], let value = raw[5 * a + 3], let end = raw[5 * a + 4] else { continue }
                let start = Int32(text.count)
                let valueLength = value.distance(to: end)
                appendAttributeValue(value, count: valueLength)
                // `namespaces: strip` drops an attribute's prefix unless another attribute of
                // the element has the same local name (`href` and `q:href`): then the
                // prefixed one keeps its prefix, and both stay distinct keys.
                let attributePrefix = stripsNamespaces && !XMLRecordTree.sharesLocalName(a, raw, attributeCount) ? nil : raw[5 * a + 1]
                let attributeEntry = nameEntry(prefix: attributePrefix, local: name)
                let nameLength = Int(attributeEntry.pointee.localLength)
                let attributePrefixLength = Int(attributeEntry.pointee.prefixLength)
                attributes.append(Attribute(prefix: attributePrefix, local: name, prefixLength: Int32(attributePrefixLength),
                                            localLength: Int32(nameLength), start: start, end: Int32(text.count)))
                size += nameLength + attributePrefixLength + valueLength + 8
            }
            node.attributeCount = Int32(attributes.count) - node.firstAttribute
        }
        nodes.append(node)
        if let parent = open.last {
            link(child: index, node, to: parent)
        }
        open.append(index)
    }

    package mutating func endElement() {
        open.removeLast()
    }

    /// Appends character data (or CDATA) to the innermost open element.
    package mutating func characters(_ bytes: UnsafePointer<UInt8>, count: Int) {
        guard let current = open.last, count > 0 else { return }
        size += count
        let blank = XMLRecordTree.isBlank(bytes, count: count)
        if !blank { nodes[current].hasText = true }
        let last = nodes[current].lastText
        let start = Int32(text.count)
        text.appendBytes(bytes, count: count)
        if last >= 0 && segments[last].end == start && !segments[last].isClosed {
            segments[last].end = Int32(text.count)
            if !blank { segments[last].isBlank = false }
            return
        }
        let segment = Int32(segments.count)
        segments.append(Segment(start: start, end: Int32(text.count), isBlank: blank))
        if last >= 0 {
            segments[last].next = segment
        } else {
            nodes[current].firstText = segment
        }
        nodes[current].lastText = segment
    }

    /// As ``characters(_:count:)`` for whitespace-only text that a start tag or the
    /// element's end tag follows (the caller knows): such a run is dropped when written,
    /// so unless it continues the element's open run, only its size is counted.
    package mutating func blankBeforeTag(_ bytes: UnsafePointer<UInt8>, count: Int) {
        guard let current = open.last, count > 0 else { return }
        let last = nodes[current].lastText
        if last >= 0 && segments[last].end == Int32(text.count) && !segments[last].isClosed {
            characters(bytes, count: count)  // it joins text before it (a comment between)
            return
        }
        size += count
    }

    /// Links node `child` (whose value `c` the caller just stored) below `parent`.
    private mutating func link(child: Int32, _ c: Node, to parent: Int32) {
        let previous = nodes[parent].lastChild
        nodes[parent].lastChild = child
        var head: Int32 = -1
        if previous >= 0 {
            if nodes[previous].local == c.local && nodes[previous].prefix == c.prefix {
                head = nodes[previous].groupHead  // the common case: a run of same-named siblings
            } else if nodes[parent].groupKinds <= XMLRecordTree.linearGroups {
                var g = nodes[parent].firstGroup
                while g >= 0 {
                    if nodes[g].local == c.local && nodes[g].prefix == c.prefix {
                        head = g
                        break
                    }
                    g = nodes[g].nextGroup
                }
            } else {
                head = groups[GroupKey(parent: parent, prefix: c.prefix.map(UnsafeRawPointer.init), local: UnsafeRawPointer(c.local))] ?? -1
            }
        }
        if head >= 0 {
            nodes[child].groupHead = head
            let tail = nodes[head].groupTail
            nodes[tail].nextSame = child
            nodes[head].groupTail = child
            nodes[head].groupCount += 1
            return
        }
        // A new name below this parent.
        nodes[child].groupHead = child
        nodes[child].groupTail = child
        nodes[child].groupCount = 1
        nodes[child].isArrayGroup = isArrayName(c)
        let lastGroup = nodes[parent].lastGroup
        if lastGroup >= 0 {
            nodes[lastGroup].nextGroup = child
        } else {
            nodes[parent].firstGroup = child
        }
        nodes[parent].lastGroup = child
        nodes[parent].groupKinds += 1
        let kinds = nodes[parent].groupKinds
        if kinds > XMLRecordTree.linearGroups {
            // Past the linear limit: index every group of this parent (once), then each new one.
            var g = kinds == XMLRecordTree.linearGroups + 1 ? nodes[parent].firstGroup : child
            while g >= 0 {
                let n = nodes[g]
                groups[GroupKey(parent: parent, prefix: n.prefix.map(UnsafeRawPointer.init), local: UnsafeRawPointer(n.local))] = g
                g = n.nextGroup
            }
        }
    }

    /// The cache entry of `prefix:local` (interned names), filled on a miss; valid until
    /// the next call.
    @inline(__always)
    private mutating func nameEntry(prefix: Name?, local: Name) -> UnsafeMutablePointer<NameEntry> {
        let hash = (UInt(bitPattern: local) ^ UInt(bitPattern: prefix) &* 31) &* 0x9E37_79B9_7F4A_7C15
        let entry = nameCache.pointer(Int32(truncatingIfNeeded: hash >> UInt(UInt.bitWidth - 8)))
        if entry.pointee.local != local || entry.pointee.prefix != prefix {
            entry.pointee = NameEntry(prefix: prefix, local: local, prefixLength: Int32(prefix.map(XMLRecordTree.length) ?? 0),
                                      localLength: Int32(XMLRecordTree.length(local)))
        }
        return entry
    }

    /// Writes `,"`, the literal, the name and `":` of `entry` into `keyBytes` and returns
    /// where they start; `keyBytes` is emptied (and every entry's keys forgotten) first
    /// when it holds more than ``keyBytesLimit`` bytes.
    private mutating func buildKey(_ entry: UnsafeMutablePointer<NameEntry>, literal: XMLScratch<UInt8>?) -> Int32 {
        if keyBytes.count > XMLRecordTree.keyBytesLimit {
            keyBytes.removeAll()
            for i in 0..<Int32(256) {
                nameCache[i].elementKeyCount = 0
                nameCache[i].attributeKeyCount = 0
            }
        }
        let start = Int32(keyBytes.count)
        keyBytes.append(UInt8(ascii: ","))
        keyBytes.append(UInt8(ascii: "\""))
        if let literal { keyBytes.appendBytes(literal.base, count: literal.count) }
        XMLRecordTree.appendName(prefix: entry.pointee.prefix, prefixLength: Int(entry.pointee.prefixLength), local: entry.pointee.local!,
                                 localLength: Int(entry.pointee.localLength), to: &keyBytes)
        keyBytes.append(UInt8(ascii: "\""))
        keyBytes.append(UInt8(ascii: ":"))
        return start
    }

    /// Writes the key of a child element or attribute named `prefix:local` (with `,` unless
    /// `first`) from the name cache, and its string node.
    @inline(__always)
    private mutating func nameKey(prefix: Name?, local: Name, isAttribute: Bool, first: inout Bool) {
        let entry = nameEntry(prefix: prefix, local: local)
        var start: Int32
        var count: Int32
        if isAttribute {
            if entry.pointee.attributeKeyCount == 0 {
                entry.pointee.attributeKeyStart = buildKey(entry, literal: attributeKeyPrefix)
                entry.pointee.attributeKeyCount = Int32(keyBytes.count) - entry.pointee.attributeKeyStart
            }
            start = entry.pointee.attributeKeyStart
            count = entry.pointee.attributeKeyCount
        } else {
            if entry.pointee.elementKeyCount == 0 {
                entry.pointee.elementKeyStart = buildKey(entry, literal: nil)
                entry.pointee.elementKeyCount = Int32(keyBytes.count) - entry.pointee.elementKeyStart
            }
            start = entry.pointee.elementKeyStart
            count = entry.pointee.elementKeyCount
        }
        // The key's string node starts at its `"`, after the `,` when there is one.
        var quote = output.count
        if first {
            first = false
            start += 1
            count -= 1
        } else {
            quote += 1
        }
        output.appendBytes(keyBytes.base + Int(start), count: Int(count))
        let next = UInt32(truncatingIfNeeded: tapeBase &+ tape.count &+ 1)
        tape.append(TapeEntry(kind: .string, flags: isAttribute ? attributeKeyFlags : 0, start: offset(quote), end: offset(output.count - 1),
                              next: next))
    }

    private mutating func isArrayName(_ node: Node) -> Bool {
        guard !arrayNames.isEmpty else { return false }
        // A direct-mapped cache by interned name (a colliding name replaces the entry).
        let hash = (UInt(bitPattern: node.local) ^ UInt(bitPattern: node.prefix) &* 31) &* 0x9E37_79B9_7F4A_7C15
        let slot = Int(truncatingIfNeeded: hash >> UInt(UInt.bitWidth - 6))
        let entry = arrayNameCache[slot]
        if entry.local == node.local && entry.prefix == node.prefix { return entry.isArray }
        var name: [UInt8] = []
        XMLRecordTree.appendName(prefix: node.prefix, prefixLength: Int(node.prefixLength), local: node.local,
                                 localLength: Int(node.localLength), to: &name)
        let isArray = arrayNames.contains(name)
        arrayNameCache[slot] = ArrayNameEntry(prefix: node.prefix, local: node.local, isArray: isArray)
        return isArray
    }

    /// Attribute values reach SAX with `&` written as `&#38;` (libxml2 does so when it
    /// does not substitute entities); turn those back into `&`.
    private mutating func appendAttributeValue(_ base: UnsafePointer<UInt8>, count n: Int) {
        guard memchr(base, 0x26, n) != nil else {
            text.appendBytes(base, count: n)
            return
        }
        var i = 0
        var run = 0
        while i < n {
            if base[i] == UInt8(ascii: "&"), i + 4 < n, base[i + 1] == UInt8(ascii: "#"), base[i + 2] == UInt8(ascii: "3"),
               base[i + 3] == UInt8(ascii: "8"), base[i + 4] == UInt8(ascii: ";") {
                text.append(base + run, count: i + 1 - run)
                i += 5
                run = i
            } else {
                i += 1
            }
        }
        text.append(base + run, count: n - run)
    }

    // MARK: Writing

    /// Writes the record (node 0) as a JSON object and returns its text, valid until the
    /// next call or ``deallocate()``.
    ///
    /// With the text it lays out the record's nodes as ``JSONIndexer`` would index that
    /// text at batch offset `byteBase` as tape nodes from index `tapeBase` on: see
    /// ``tapeNodes``.
    package mutating func write(tagged: Bool, byteBase: Int = 0, tapeBase: Int = 0) -> UnsafeBufferPointer<UInt8> {
        output.removeAll()
        tape.removeAll()
        self.byteBase = byteBase
        self.tapeBase = tapeBase
        tapeIsExact = tapeMaxDepth > 0
        if !nodes.isEmpty {
            writeElement(0, isRecord: true, tagged: tagged, depth: 0)
        }
        return output.bytes
    }

    /// The tape nodes of the record ``write(tagged:byteBase:tapeBase:)`` wrote last, equal
    /// node for node to what ``JSONIndexer`` (with `input.max_depth` = ``XMLOptions/jsonMaxDepth``)
    /// makes of its text at those bases; nil when the options ask for no tape, or the
    /// indexer must judge the record itself (malformed UTF-8 in a text, nesting past the
    /// limit, a batch past 2 GiB), so the first stage indexes it as before.
    package var tapeNodes: UnsafeBufferPointer<TapeEntry>? {
        guard tapeIsExact, byteBase + output.count < Int(Int32.max), tapeBase + tape.count < Int(Int32.max) else { return nil }
        return UnsafeBufferPointer(start: tape.base, count: tape.count)
    }

    @inline(__always)
    private static func appendName(prefix: Name?, prefixLength: Int, local: Name, localLength: Int, to out: inout XMLScratch<UInt8>) {
        if let prefix {
            out.appendBytes(prefix, count: prefixLength)
            out.append(UInt8(ascii: ":"))
        }
        out.appendBytes(local, count: localLength)
    }

    private static func appendName(prefix: Name?, prefixLength: Int, local: Name, localLength: Int, to out: inout [UInt8]) {
        if let prefix {
            out.append(contentsOf: UnsafeBufferPointer(start: prefix, count: prefixLength))
            out.append(UInt8(ascii: ":"))
        }
        out.append(contentsOf: UnsafeBufferPointer(start: local, count: localLength))
    }

    /// A tape offset: `at` in the record's text, in the batch.
    @inline(__always)
    private func offset(_ at: Int) -> UInt32 { UInt32(truncatingIfNeeded: byteBase &+ at) }

    /// Records the string node that runs from `start` to the end of the output.
    @inline(__always)
    private mutating func stringNode(from start: Int, flags: UInt8) {
        let next = UInt32(truncatingIfNeeded: tapeBase &+ tape.count &+ 1)
        tape.append(TapeEntry(kind: .string, flags: flags, start: offset(start), end: offset(output.count), next: next))
    }

    /// Opens an object or array node at the output's end (its `{` or `[` comes next).
    @inline(__always)
    private mutating func openNode(_ kind: JSONKind, depth: Int) -> Int {
        if depth > tapeMaxDepth { tapeIsExact = false }
        tape.append(TapeEntry(kind: kind, start: offset(output.count), end: 0, next: 0))
        return tape.count - 1
    }

    /// Closes node `container` just after its `}` or `]`.
    @inline(__always)
    private mutating func closeNode(_ container: Int, count: UInt32) {
        let entry = tape.pointer(container)
        entry.pointee.count = count
        entry.pointee.end = offset(output.count)
        entry.pointee.next = UInt32(truncatingIfNeeded: tapeBase &+ tape.count)
    }

    /// Writes `,"` (or `"`), the literal, the name if any, and `":`; the key's node goes on
    /// the tape.
    @inline(__always)
    private mutating func key(_ literal: XMLScratch<UInt8>?, flags: UInt8 = 0, prefix: Name? = nil, prefixLength: Int32 = 0, local: Name? = nil,
                              localLength: Int32 = 0, first: inout Bool) {
        if first {
            first = false
        } else {
            output.append(UInt8(ascii: ","))
        }
        let start = output.count
        output.append(UInt8(ascii: "\""))
        if let literal { output.appendBytes(literal.base, count: literal.count) }
        if let local {
            XMLRecordTree.appendName(prefix: prefix, prefixLength: Int(prefixLength), local: local, localLength: Int(localLength), to: &output)
        }
        output.append(UInt8(ascii: "\""))
        stringNode(from: start, flags: flags)
        output.append(UInt8(ascii: ":"))
    }

    /// Writes `"`, `count` bytes escaped, `"`, and the string's node.
    @inline(__always)
    private mutating func stringValue(_ bytes: UnsafePointer<UInt8>, count: Int) {
        let start = output.count
        output.append(UInt8(ascii: "\""))
        let flags = appendEscaped(bytes, count: count)
        output.append(UInt8(ascii: "\""))
        stringNode(from: start, flags: flags)
    }

    /// ``XMLScratch/appendJSONEscaped(_:count:)``, noting a malformed UTF-8 sequence (the
    /// record then has no tape); returns the string node's flags.
    @inline(__always)
    private mutating func appendEscaped(_ bytes: UnsafePointer<UInt8>, count: Int) -> UInt8 {
        let outcome = output.appendJSONEscapedChecked(bytes, count: count)
        if outcome & XMLScratch<UInt8>.malformedUTF8 != 0 { tapeIsExact = false }
        return outcome & TapeEntry.hasEscapes
    }

    private mutating func writeElement(_ index: Int32, isRecord: Bool, tagged: Bool, depth: Int) {
        // Fields are read through the address: copying the whole Node costs more.
        let node = nodes.pointer(index)
        if !isRecord && node.pointee.attributeCount == 0 && node.pointee.firstGroup < 0 {
            let start = output.count
            output.append(UInt8(ascii: "\""))
            let flags = node.pointee.hasText ? writeText(node.pointee.firstText) : 0
            output.append(UInt8(ascii: "\""))
            stringNode(from: start, flags: flags)
            return
        }
        let object = openNode(.object, depth: depth + 1)
        output.append(UInt8(ascii: "{"))
        var members: UInt32 = 0
        var first = true
        if isRecord && tagged {
            key(nameKey, flags: nameKeyFlags, first: &first)
            let start = output.count
            output.append(UInt8(ascii: "\""))
            XMLRecordTree.appendName(prefix: node.pointee.prefix, prefixLength: Int(node.pointee.prefixLength), local: node.pointee.local,
                                     localLength: Int(node.pointee.localLength), to: &output)
            output.append(UInt8(ascii: "\""))
            stringNode(from: start, flags: 0)
            members += 1
        }
        var a = Int(node.pointee.firstAttribute)
        let attributeEnd = a + Int(node.pointee.attributeCount)
        while a < attributeEnd {
            let attribute = attributes.pointer(Int32(a))
            nameKey(prefix: attribute.pointee.prefix, local: attribute.pointee.local, isAttribute: true, first: &first)
            stringValue(text.base + Int(attribute.pointee.start), count: Int(attribute.pointee.end - attribute.pointee.start))
            members += 1
            a += 1
        }
        var group = node.pointee.firstGroup
        while group >= 0 {
            let head = nodes.pointer(group)
            nameKey(prefix: head.pointee.prefix, local: head.pointee.local, isAttribute: false, first: &first)
            members += 1
            if head.pointee.groupCount > 1 || head.pointee.isArrayGroup {
                let array = openNode(.array, depth: depth + 2)
                output.append(UInt8(ascii: "["))
                var elements: UInt32 = 0
                var member = group
                while member >= 0 {
                    if member != group { output.append(UInt8(ascii: ",")) }
                    writeElement(member, isRecord: false, tagged: false, depth: depth + 2)
                    elements += 1
                    member = nodes[member].nextSame
                }
                output.append(UInt8(ascii: "]"))
                closeNode(array, count: elements)
            } else {
                writeElement(group, isRecord: false, tagged: false, depth: depth + 1)
            }
            group = head.pointee.nextGroup
        }
        if node.pointee.hasText {
            key(textKey, flags: textKeyFlags, first: &first)
            let start = output.count
            output.append(UInt8(ascii: "\""))
            let flags = writeText(node.pointee.firstText)
            output.append(UInt8(ascii: "\""))
            stringNode(from: start, flags: flags)
            members += 1
        }
        output.append(UInt8(ascii: "}"))
        closeNode(object, count: members)
    }

    /// Writes the text segments from `firstSegment` on, leaving out blank ones; returns
    /// the string node's flags.
    private mutating func writeText(_ firstSegment: Int32) -> UInt8 {
        var flags: UInt8 = 0
        var s = firstSegment
        while s >= 0 {
            let segment = segments.pointer(s)
            if !segment.pointee.isBlank {
                flags |= appendEscaped(text.base + Int(segment.pointee.start), count: Int(segment.pointee.end - segment.pointee.start))
            }
            s = segment.pointee.next
        }
        return flags
    }

    /// True when attribute `a` has a prefix and another attribute of the same element
    /// has its local name.
    static func sharesLocalName(_ a: Int, _ raw: UnsafeMutablePointer<UnsafePointer<xmlChar>?>, _ count: Int) -> Bool {
        guard count > 1, raw[5 * a + 1] != nil, let name = raw[5 * a] else { return false }
        for b in 0..<count where b != a {
            if let other = raw[5 * b], xmlStrEqual(name, other) != 0 { return true }
        }
        return false
    }

    @inline(__always)
    package static func isBlank(_ bytes: UnsafePointer<UInt8>, count: Int) -> Bool {
        for i in 0..<count {
            let byte = bytes[i]
            if !(byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09) { return false }
        }
        return true
    }

    package static func length(_ name: Name) -> Int { strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self)) }

    /// Appends `prefix:local` (or `local`) as written.
    package static func appendName(prefix: Name?, local: Name, to out: inout [UInt8]) {
        appendName(prefix: prefix, prefixLength: prefix.map(length) ?? 0, local: local, localLength: length(local), to: &out)
    }
}
