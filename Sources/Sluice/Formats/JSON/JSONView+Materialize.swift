/// Turning a subtree into an owned ``JSONValue``.
extension JSONView {
    /// The subtree at node `i` as a ``JSONValue``.
    ///
    /// Numbers become `.int` / `.double` when that keeps their value: an integer literal
    /// beyond `Int64` and a number beyond the `Double` range (`1e400`) become `.raw` with
    /// their source text, so writing the value back reproduces them. Recursion depth is
    /// bounded by the `maxDepth` the value was indexed with.
    ///
    /// - Complexity: O(nodes in the subtree).
    public func materialize(_ i: Int) -> JSONValue {
        let e = tape[i]
        switch e.kind {
        case .null:
            return .null
        case .true:
            return .bool(true)
        case .false:
            return .bool(false)
        case .string:
            return .string(string(i) ?? "")
        case .number:
            switch number(i) {
            case .int(let v)?:
                return .int(v)
            case .double(let v)? where v.isFinite && !(e.flags & TapeEntry.isInteger != 0 && v != 0):
                return .double(v)
            default:
                return .raw(Array(rawBytes(i)))
            }
        case .array:
            var elements: [JSONValue] = []
            elements.reserveCapacity(Int(e.count))
            for element in self.elements(of: i) { elements.append(materialize(element)) }
            return .array(elements)
        case .object:
            var members: [JSONMember] = []
            members.reserveCapacity(Int(e.count))
            for (key, value) in self.members(of: i) {
                members.append(JSONMember(string(key) ?? "", materialize(value)))
            }
            return .object(members)
        }
    }
}
