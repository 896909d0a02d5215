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
/// when their pointers are, so grouping repeated children costs a pointer comparison (or,
/// when siblings interleave, one hash lookup) and no `String`.
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
final class XMLRecordTree {
    typealias Name = UnsafePointer<xmlChar>

    struct Node {
        var prefix: Name?
        var local: Name
        var firstAttribute: Int32
        var attributeCount: Int32 = 0
        var firstText: Int32 = -1
        var lastText: Int32 = -1
        /// The first child of each distinct name, linked through `nextGroup`.
        var firstGroup: Int32 = -1
        var lastGroup: Int32 = -1
        var nextGroup: Int32 = -1
        /// The next sibling with the same name.
        var nextSame: Int32 = -1
        /// For a group's first element: its last element, its size, and whether it is always an array.
        var groupTail: Int32 = -1
        var groupCount: Int32 = 0
        var isArrayGroup = false
        var lastChild: Int32 = -1
        var groupHead: Int32 = -1
    }

    struct Attribute {
        var prefix: Name?
        var local: Name
        var start: Int32
        var end: Int32
    }

    struct Segment {
        var start: Int32
        var end: Int32
        var next: Int32 = -1
    }

    private struct GroupKey: Hashable {
        var parent: Int32
        var prefix: UnsafeRawPointer?
        var local: UnsafeRawPointer
    }

    private(set) var nodes: [Node] = []
    private var attributes: [Attribute] = []
    private var segments: [Segment] = []
    private var text: [UInt8] = []
    private var groups: [GroupKey: Int32] = [:]
    /// Open elements of the record, innermost last.
    private var open: [Int32] = []
    /// Approximate size of the record's JSON, checked against `max_record_bytes`.
    private(set) var size = 0

    private let options: XMLOptions
    private let arrayNames: [[UInt8]]
    private let attributePrefix: [UInt8]
    private let textKey: [UInt8]
    private let nameKey: [UInt8]

    init(options: XMLOptions) {
        self.options = options
        arrayNames = options.arrays.map { Array($0.utf8) }
        attributePrefix = Array(options.attributePrefix.utf8)
        textKey = Array(options.textKey.utf8)
        nameKey = Array(options.nameKey.utf8)
    }

    var isOpen: Bool { !open.isEmpty }

    func reset() {
        nodes.removeAll(keepingCapacity: true)
        attributes.removeAll(keepingCapacity: true)
        segments.removeAll(keepingCapacity: true)
        text.removeAll(keepingCapacity: true)
        if !groups.isEmpty { groups.removeAll(keepingCapacity: true) }
        open.removeAll(keepingCapacity: true)
        size = 0
    }

    /// Opens an element below the innermost open one (or as the record root).
    /// `attributes` is libxml2's array of five pointers per attribute.
    func startElement(prefix: Name?, local: Name, attributeCount: Int, attributes raw: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        let prefix = options.stripsNamespaces ? nil : prefix
        let index = Int32(nodes.count)
        nodes.append(Node(prefix: prefix, local: local, firstAttribute: Int32(attributes.count)))
        size += XMLRecordTree.length(local) + 8
        if let raw, attributeCount > 0 {
            for a in 0..<attributeCount {
                guard let name = raw[5 * a], let value = raw[5 * a + 3], let end = raw[5 * a + 4] else { continue }
                let start = Int32(text.count)
                appendAttributeValue(UnsafeBufferPointer(start: value, count: value.distance(to: end)))
                attributes.append(Attribute(prefix: options.stripsNamespaces ? nil : raw[5 * a + 1], local: name,
                                            start: start, end: Int32(text.count)))
                size += XMLRecordTree.length(name) + value.distance(to: end) + 8
            }
            nodes[Int(index)].attributeCount = Int32(attributes.count) - nodes[Int(index)].firstAttribute
        }
        if let parent = open.last {
            link(child: index, to: parent)
        }
        open.append(index)
    }

    func endElement() {
        open.removeLast()
    }

    /// Appends character data (or CDATA) to the innermost open element.
    func characters(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let current = open.last, bytes.count > 0 else { return }
        size += bytes.count
        let last = nodes[Int(current)].lastText
        if last >= 0 && segments[Int(last)].end == Int32(text.count) {
            text.append(contentsOf: bytes)
            segments[Int(last)].end = Int32(text.count)
            return
        }
        let start = Int32(text.count)
        text.append(contentsOf: bytes)
        let segment = Int32(segments.count)
        segments.append(Segment(start: start, end: Int32(text.count)))
        if last >= 0 {
            segments[Int(last)].next = segment
        } else {
            nodes[Int(current)].firstText = segment
        }
        nodes[Int(current)].lastText = segment
    }

    private func link(child: Int32, to parent: Int32) {
        let c = nodes[Int(child)]
        let previous = nodes[Int(parent)].lastChild
        nodes[Int(parent)].lastChild = child
        let key = GroupKey(parent: parent, prefix: c.prefix.map(UnsafeRawPointer.init), local: UnsafeRawPointer(c.local))
        var head: Int32 = -1
        if previous >= 0 {
            let p = nodes[Int(previous)]
            if p.local == c.local && p.prefix == c.prefix {
                head = p.groupHead  // the common case: a run of same-named siblings
            } else if let found = groups[key] {
                head = found
            }
        }
        nodes[Int(child)].groupHead = head >= 0 ? head : child
        if head < 0 {
            // A new name below this parent.
            nodes[Int(child)].groupTail = child
            nodes[Int(child)].groupCount = 1
            nodes[Int(child)].isArrayGroup = isArrayName(prefix: c.prefix, local: c.local)
            let lastGroup = nodes[Int(parent)].lastGroup
            if lastGroup >= 0 {
                nodes[Int(lastGroup)].nextGroup = child
            } else {
                nodes[Int(parent)].firstGroup = child
            }
            nodes[Int(parent)].lastGroup = child
            groups[key] = child
            return
        }
        let tail = nodes[Int(head)].groupTail
        nodes[Int(tail)].nextSame = child
        nodes[Int(head)].groupTail = child
        nodes[Int(head)].groupCount += 1
    }

    private func isArrayName(prefix: Name?, local: Name) -> Bool {
        guard !arrayNames.isEmpty else { return false }
        var name: [UInt8] = []
        XMLRecordTree.appendName(prefix: prefix, local: local, to: &name)
        return arrayNames.contains(name)
    }

    /// Attribute values reach SAX with `&` written as `&#38;` (libxml2 does so when it
    /// does not substitute entities); turn those back into `&`.
    private func appendAttributeValue(_ value: UnsafeBufferPointer<UInt8>) {
        guard let base = value.baseAddress else { return }
        var i = 0
        var run = 0
        let n = value.count
        while i < n {
            if base[i] == UInt8(ascii: "&"), i + 4 < n, base[i + 1] == UInt8(ascii: "#"), base[i + 2] == UInt8(ascii: "3"),
               base[i + 3] == UInt8(ascii: "8"), base[i + 4] == UInt8(ascii: ";") {
                text.append(contentsOf: UnsafeBufferPointer(start: base + run, count: i + 1 - run))
                i += 5
                run = i
            } else {
                i += 1
            }
        }
        text.append(contentsOf: UnsafeBufferPointer(start: base + run, count: n - run))
    }

    // MARK: Writing

    /// Writes the record (node 0) as a JSON object to `out`.
    func write(to out: inout [UInt8], tagged: Bool) {
        guard !nodes.isEmpty else { return }
        writeElement(0, to: &out, isRecord: true, tagged: tagged)
    }

    private func writeElement(_ index: Int32, to out: inout [UInt8], isRecord: Bool, tagged: Bool) {
        let node = nodes[Int(index)]
        if !isRecord && node.attributeCount == 0 && node.firstGroup < 0 {
            out.append(UInt8(ascii: "\""))
            writeText(node, to: &out)
            out.append(UInt8(ascii: "\""))
            return
        }
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ parts: [UInt8]..., prefix: Name? = nil, local: Name? = nil) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            var name: [UInt8] = []
            for part in parts { name.append(contentsOf: part) }
            if let local { XMLRecordTree.appendName(prefix: prefix, local: local, to: &name) }
            name.withUnsafeBufferPointer { JSONWriter.appendEscaped($0, to: &out) }
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        if isRecord && tagged {
            key(nameKey)
            out.append(UInt8(ascii: "\""))
            var name: [UInt8] = []
            XMLRecordTree.appendName(prefix: node.prefix, local: node.local, to: &name)
            name.withUnsafeBufferPointer { JSONWriter.appendEscaped($0, to: &out) }
            out.append(UInt8(ascii: "\""))
        }
        var a = Int(node.firstAttribute)
        let attributeEnd = a + Int(node.attributeCount)
        while a < attributeEnd {
            let attribute = attributes[a]
            key(attributePrefix, prefix: attribute.prefix, local: attribute.local)
            out.append(UInt8(ascii: "\""))
            text.withUnsafeBufferPointer {
                JSONWriter.appendEscaped(UnsafeBufferPointer(rebasing: $0[Int(attribute.start)..<Int(attribute.end)]), to: &out)
            }
            out.append(UInt8(ascii: "\""))
            a += 1
        }
        var group = node.firstGroup
        while group >= 0 {
            let head = nodes[Int(group)]
            key(prefix: head.prefix, local: head.local)
            if head.groupCount > 1 || head.isArrayGroup {
                out.append(UInt8(ascii: "["))
                var member = group
                while member >= 0 {
                    if member != group { out.append(UInt8(ascii: ",")) }
                    writeElement(member, to: &out, isRecord: false, tagged: false)
                    member = nodes[Int(member)].nextSame
                }
                out.append(UInt8(ascii: "]"))
            } else {
                writeElement(group, to: &out, isRecord: false, tagged: false)
            }
            group = head.nextGroup
        }
        if hasText(node) {
            key(textKey)
            out.append(UInt8(ascii: "\""))
            writeText(node, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
    }

    private func hasText(_ node: Node) -> Bool {
        var s = node.firstText
        while s >= 0 {
            let segment = segments[Int(s)]
            for i in Int(segment.start)..<Int(segment.end) where !XMLRecordTree.isSpace(text[i]) { return true }
            s = segment.next
        }
        return false
    }

    private func writeText(_ node: Node, to out: inout [UInt8]) {
        var s = node.firstText
        text.withUnsafeBufferPointer { text in
            while s >= 0 {
                let segment = segments[Int(s)]
                let bytes = UnsafeBufferPointer(rebasing: text[Int(segment.start)..<Int(segment.end)])
                if bytes.contains(where: { !XMLRecordTree.isSpace($0) }) {
                    JSONWriter.appendEscaped(bytes, to: &out)
                }
                s = segment.next
            }
        }
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    static func length(_ name: Name) -> Int { strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self)) }

    /// Appends `prefix:local` (or `local`) as written.
    static func appendName(prefix: Name?, local: Name, to out: inout [UInt8]) {
        if let prefix {
            out.append(contentsOf: UnsafeBufferPointer(start: prefix, count: length(prefix)))
            out.append(UInt8(ascii: ":"))
        }
        out.append(contentsOf: UnsafeBufferPointer(start: local, count: length(local)))
    }
}
