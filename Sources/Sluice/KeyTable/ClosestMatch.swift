/// Typo suggestions ("did you mean 'readers'?") for unknown keys, choices and column
/// names: shared by the config loader and stages, so it lives with the key vocabulary
/// and depends on nothing.

/// The candidate nearest to `word` by edit distance, if it is close enough to be a typo.
public func closestMatch(to word: String, in candidates: [String]) -> String? {
    let limit = max(1, word.count / 3)
    var best: (String, Int)?
    for candidate in candidates {
        let d = editDistance(Array(word.lowercased()), Array(candidate.lowercased()))
        if d <= limit, d < (best?.1 ?? Int.max) { best = (candidate, d) }
    }
    return best?.0
}

private func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
