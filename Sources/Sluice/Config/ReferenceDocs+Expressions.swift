/// The expression language guide: `docs/expressions.md` and `sluice help expressions`
/// are both this text, so the two cannot drift (a test compares the file with it;
/// regenerate with `SLUICE_UPDATE_DOCS=1 swift test --filter ReferenceDocs`).
extension ReferenceDocs {
    public static let expressions: String = #"""
<!-- THIS FILE IS GENERATED from ReferenceDocs.expressions (Sources/Sluice/Config/ReferenceDocs+Expressions.swift); edit it there. -->
# Expressions

`filter` conditions and computed `select` fields are expressions over one record. They
are compiled when the config loads: a syntax error, an unknown function or a wrong
argument count stops the run before it starts (exit 2) with the line and the column
inside the expression.

## Language

- Literals: `null`, `true`, `false`, integers (64-bit), decimals (`1.5`, `2e3`), strings
  in double or single quotes with JSON escapes (plus `\'`).
- Field paths: `status`, `customer.id`, `items[0].sku`, `items[-1]` (from the end),
  `meta["odd key"]`. A missing field — or a step into something that is not an object or
  array — reads as `null`.
- Operators, loosest first: `||`; `&&`; `==` `!=`; `<` `<=` `>` `>=`; `+` `-`; `*` `/`
  `%`; unary `!` `-`. Parentheses group. Comparisons do not chain (`a < b < c` is an
  error).
- Nesting (parentheses, calls, unary operators, chains of binary operators) deeper than
  256 levels is a compile error; write long alternatives as `x in [...]`.
- Functions: strings (`lower`, `trim`, `replace`, `split`, `substr`, `matches`, ...),
  numbers (`round`, `floor`, `abs`, `min`, ...), conversions (`int`, `float`, `string`,
  `bool`), time (`parse_time`, `format_time`, `now`), arrays (`len`, `sum`, `count`,
  `join`) and `if`, `coalesce`, `exists`, `hash`: every one in `sluice help functions`
  (docs/functions.md).

## Semantics

| expression | result |
| --- | --- |
| `a == b`, `a != b` | compare by value, never fail: `1 == 1.0`; strings by bytes; objects regardless of member order; different types are unequal; `null == null` (so `missing == null` is true) |
| `a < b` and friends | numbers (exact across int and double) or strings (byte order). With a null side the result is null, so a filter drops the record. Other combinations are a record error |
| `&&`, `\|\|`, `!` | three-valued logic, null is "unknown"; short-circuit (`false && 1/0 == 1` is false) |
| `+ - * %` | int op int stays int; overflow is an error, not a silent double. `+` also joins two strings |
| `/` | always a double (`7 / 2` is 3.5); division by zero is an error |
| arithmetic on null or a string | an error: `total * 100` on a record without `total` fails that record |

An expression that fails on a record makes that record an error line of kind `transform`
naming the sub-expression (`'*' needs numbers, got null and int in 'total * 100'`); the
run goes on.

In `filter`, `true` keeps the record, `false` or `null` drops it (counted as filtered),
anything else is an error. In `select`, a plain field path copies the value's exact bytes
(big integers and `1e400` pass through unchanged); a missing field writes `null`.

`validate` checks `required` fields (missing or null fails) and `types` per field:
`string`, `int` (a number written without `.`, `e` or `E`), `number`, `bool`, `object`,
`array`, `null`. One error line names every failed rule of the record.

## Arrays, `in`, wildcards and functions

- Array literals: `[1, "a", total]`. `x in list` is true when an element equals `x`
  (as `==`); `x in missing` is null; a list that is not an array is an error.
- `items[*].price` reads the array of each element's `price` (null where missing);
  `sum`, `count`, `min`, `max`, `join` take it, and `sum`/`count` walk it without building it.
- Null and functions: string, number, time and hash functions fail on null (a missing field
  is not silently an empty string or 0) — wrap the argument in `coalesce(x, default)`. The
  conversions `int`, `float`, `string`, `bool` pass null through (there is nothing to
  convert), and a string that does not convert is a record error of kind `transform`.
- `now()` is the run's start (fixed for the run; `RunOptions.now` in tests), never folded.
- Patterns (`matches`), time formats and zones must be string literals: they are compiled
  once at config load, and a bad one is a config error with its column.

The function reference is generated from the function table: see
[functions.md](functions.md).

"""#
}
