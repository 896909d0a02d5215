extension JSONKind {
    /// "an array", "a string", ... for messages.
    package var article: String {
        switch self {
        case .null: return "null"
        case .false, .true: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
