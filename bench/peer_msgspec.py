#!/usr/bin/env python3
"""The Python peer of bench/orders-bench.yaml: what a careful engineer would script instead.

Does the bench transform with Sluice's semantics (README "Expressions", docs/expressions.md):

  drop-cancelled  filter 'status != "cancelled"'   (missing status is null, so it is kept)
  check           validate required [id, total] (missing or null fails), types id: int
                  (a number literal without . e E), total: number; every broken rule of a
                  record in one message joined by "; "
  shape           select id, ts, customer.id, customer.country, total (exact source bytes,
                  null when missing), item_count = len(items), total_cents = round(total * 100)
                  (halves away from zero; int * 100 overflowing 64 bits is an error)

Input: every **/*.json.gz under DIR, in byte order of the relative path, as NDJSON (LF or
CRLF, blank lines skipped). Output: OUT/orders.ndjson.gz (gzip level 1, one member per input
chunk, via ISA-L) and OUT/errors.ndjson with {"file","stage","kind","message","line","offset",
"record"} lines like Sluice's error report.

Tuned as the issue describes: 2 processes (one file each at a time, results written in file
order), ISA-L gzip in and out, msgspec decoding only the fields the transform reads into
typed Structs, `decode_lines` / `encode_lines` over whole 4 MiB chunks, the common record
handled inline. Anything unusual goes through a generic path that keeps values as their
source bytes (msgspec.Raw): a record that fails a rule or has an integer total alone; a
chunk whose fast decode fails (a value that does not fit the typed Structs, a blank or
CRLF line, bad JSON) is halved until the failing lines are alone, and only those take the
line-by-line path. Odd records cost time, never correctness. As a script would, the fast path writes
values re-encoded (`12.30` comes out as `12.3`), so bench/check_same.py compares records
as parsed JSON.

    python3 bench/peer_msgspec.py DIR OUT [--processes 2]
"""
import math
import multiprocessing
import os
import sys

import msgspec
from isal import igzip, isal_zlib

CHUNK = 4 << 20
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
NULL = msgspec.Raw(b"null")
ABSENT = msgspec.Raw(b"")


class Customer(msgspec.Struct):
    id: str | None = None
    country: str | None = None


class Skip(msgspec.Struct):
    pass


ANY_SCALAR = int | float | str | bool | None | msgspec.UnsetType


class Order(msgspec.Struct):
    """The fields the transform reads, typed: a record whose values do not fit these
    types makes the chunk's fast decode fail, and the chunk goes line by line."""
    id: ANY_SCALAR = msgspec.UNSET
    ts: str | None = None
    status: str | None = None
    customer: Customer | None = None
    items: list[Skip] | None = None
    total: ANY_SCALAR = msgspec.UNSET


class Out(msgspec.Struct):
    id: int
    ts: str | None
    customer_id: str | None
    country: str | None
    total: float
    item_count: int
    total_cents: int


class RawOut(msgspec.Struct):
    """The output of the generic path: values copied as their source bytes."""
    id: msgspec.Raw
    ts: msgspec.Raw
    customer_id: msgspec.Raw
    country: msgspec.Raw
    total: msgspec.Raw
    item_count: int
    total_cents: int


fast_lines = msgspec.json.Decoder(Order)  # decode_lines gives a list of these
generic = msgspec.json.Decoder(dict[str, msgspec.Raw])
any_value = msgspec.json.Decoder()
encoder = msgspec.json.Encoder()


class RecordError(Exception):
    def __init__(self, stage, kind, message):
        self.stage, self.kind, self.message = stage, kind, message


def type_name(raw):
    """Sluice's ValueType of a raw JSON value (bytes)."""
    c = raw[:1]
    if c == b'"':
        return "string"
    if c == b"{":
        return "object"
    if c == b"[":
        return "array"
    if c in (b"t", b"f"):
        return "bool"
    if c == b"n":
        return "null"
    return "int" if is_int_literal(raw) else "double"


def is_int_literal(b):
    return b"." not in b and b"e" not in b and b"E" not in b


NUMBER_START = frozenset(b"-0123456789")


def is_number(b):
    return b != b"" and b[0] in NUMBER_START


def number(raw):
    """JSONView.number: an integer literal that fits Int64 is an int (except -0), else a double."""
    b = raw
    if is_int_literal(b):
        v = int(b)
        if INT64_MIN <= v <= INT64_MAX and b != b"-0":
            return v
    return float(b)


def round_away(v):
    t = math.trunc(v)
    if abs(v - t) >= 0.5:  # v - trunc(v) is exact for every finite double
        t += 1 if v > 0 else -1
    return int(t)


def check(id_raw, total_raw):
    """The validate stage over the raw bytes (b"" when missing): None when the record passes."""
    if is_number(id_raw) and is_int_literal(id_raw) and is_number(total_raw):
        return None
    problems = []
    for name, raw in (("id", id_raw), ("total", total_raw)):
        if raw == b"":
            problems.append(f"missing required field '{name}'")
        elif raw == b"null":
            problems.append(f"required field '{name}' is null")
    if id_raw != b"" and id_raw != b"null" and not (is_number(id_raw) and is_int_literal(id_raw)):
        problems.append(f"field 'id' must be int, got {type_name(id_raw)}")
    if total_raw != b"" and total_raw != b"null" and not is_number(total_raw):
        problems.append(f"field 'total' must be number, got {type_name(total_raw)}")
    return "; ".join(problems) if problems else None


def total_cents(total_raw):
    v = number(total_raw)
    if isinstance(v, int):
        r = v * 100
        if not INT64_MIN <= r <= INT64_MAX:
            raise RecordError("shape", "transform", "integer overflow in 'total * 100'")
        return r
    if not math.isfinite(v * 100):
        raise RecordError("shape", "transform", "number out of range in 'total * 100'")
    r = round_away(v * 100)
    if not INT64_MIN <= r <= INT64_MAX:
        raise RecordError("shape", "transform", "round() result is beyond the 64-bit integer range in 'round(total * 100)'")
    return r


def is_cancelled(b):
    if b == b'"cancelled"':
        return True
    return b"\\" in b and b[:1] == b'"' and any_value.decode(b) == "cancelled"


def field(members, name):
    raw = members.get(name)
    return b"" if raw is None else bytes(raw)


def shape_generic(line):
    """The same transform for a record of any shape (decoded as top-level raw members)."""
    m = generic.decode(line)
    status = field(m, "status")
    if status != b"" and is_cancelled(status):
        return None
    id_raw, total_raw = field(m, "id"), field(m, "total")
    message = check(id_raw, total_raw)
    if message is not None:
        raise RecordError("check", "validation", message)
    customer_id = country = NULL
    customer = field(m, "customer")
    if customer[:1] == b"{":
        cm = generic.decode(customer)
        customer_id = cm.get("id", NULL)
        country = cm.get("country", NULL)
    items = field(m, "items")
    kind = type_name(items) if items != b"" else "null"
    if kind in ("array", "object", "string"):
        count = len(any_value.decode(items))
    else:
        raise RecordError("shape", "transform", f"len() needs a string, array or object, got {kind} in 'len(items)'")
    ts = field(m, "ts")
    return RawOut(msgspec.Raw(id_raw), msgspec.Raw(ts) if ts != b"" else NULL, customer_id, country, msgspec.Raw(total_raw), count, total_cents(total_raw))


def error_line(name, stage, kind, message, line_no, offset, record):
    return encoder.encode({"file": name, "stage": stage, "kind": kind, "message": message,
                           "line": line_no, "offset": offset, "record": record})


def process_file(args):
    """Reads one gzip NDJSON file; returns (gzip members of its output, error lines, counts)."""
    path, name = args
    members, errors = [], []
    counts = [0, 0, 0, 0]  # in, out, filtered, failed
    line_no, offset, rest = 0, 0, b""
    with igzip.open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            data = rest + chunk
            if chunk:
                cut = data.rfind(b"\n") + 1
                data, rest = data[:cut], data[cut:]
            else:
                rest = b""
            if not data:
                if not chunk:
                    break
                continue
            out = process_chunk(data, name, line_no, offset, errors, counts)
            if out:
                members.append(isal_zlib.compress(encoder.encode_lines(out), 1, wbits=31))
            line_no += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            offset += len(data)
            if not chunk:
                break
    return members, errors, counts


def process_chunk(data, name, first_line, first_offset, errors, counts):
    """The chunk's output records. A chunk the fast decode refuses (one bad line is enough)
    is cut in two at a line boundary and each half tried again, so a few bad lines cost a
    few small decodes (O(bad lines x log lines)), not the whole chunk on the slow path."""
    out = []
    try:
        if b"\n\n" in data or b"\r" in data or data.startswith(b"\n"):
            raise ValueError("blank lines or CRLF: take the line-by-line path")
        orders = fast_lines.decode_lines(data)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        orders = None
        middle = data.find(b"\n", len(data) // 2)
        if 0 <= middle < len(data) - 1:
            head, tail = data[:middle + 1], data[middle + 1:]
            out = process_chunk(head, name, first_line, first_offset, errors, counts)
            out += process_chunk(tail, name, first_line + head.count(b"\n"), first_offset + len(head), errors, counts)
            return out
    if orders is not None:
        # The common record inline, no calls besides the constructor; anything unusual (a
        # failing rule, an integer or negative total, huge numbers...) is redone from its
        # line by shape_generic, in place, so the output keeps input order.
        odd = []
        append = out.append
        filtered = 0
        for k, o in enumerate(orders):
            if o.status == "cancelled":
                filtered += 1
                continue
            i = o.id
            t = o.total
            items = o.items
            if type(i) is int and type(t) is float and items is not None:
                x = t * 100.0
                if -9.2e18 < x < 9.2e18:
                    cents = int(x)  # x - int(x) is exact: round halves away from zero
                    d = x - cents
                    if d >= 0.5:
                        cents += 1
                    elif d <= -0.5:
                        cents -= 1
                    c = o.customer
                    if c is None:
                        append(Out(i, o.ts, None, None, t, len(items), cents))
                    else:
                        append(Out(i, o.ts, c.id, c.country, t, len(items), cents))
                    continue
            odd.append((k, len(out)))
            append(None)
        counts[0] += len(orders)
        counts[2] += filtered
        if odd:
            starts = [0]
            find = data.find
            while len(starts) <= odd[-1][0]:
                starts.append(find(b"\n", starts[-1]) + 1)
            for k, position in odd:
                end = find(b"\n", starts[k])
                text = data[starts[k]:end if end >= 0 else len(data)]
                try:
                    out[position] = shape_generic(text)
                except RecordError as e:
                    errors.append(error_line(name, e.stage, e.kind, e.message, first_line + k + 1, first_offset + starts[k], msgspec.Raw(text)))
                    counts[3] += 1
                    continue
                if out[position] is None:
                    counts[2] += 1
            out = [r for r in out if r is not None]
        counts[1] += len(out)
        return out
    position = 0
    for k, text in enumerate(data.split(b"\n")):
        start = position
        position += len(text) + 1
        if text.endswith(b"\r"):
            text = text[:-1]
        if not text.strip(b" \t"):
            continue
        counts[0] += 1
        try:
            r = shape_generic(text)
        except msgspec.DecodeError as e:
            errors.append(error_line(name, "input", "parse", f"invalid JSON: {e}", first_line + k + 1, first_offset + start, text.decode("utf-8", "replace")))
            counts[3] += 1
            continue
        except RecordError as e:
            errors.append(error_line(name, e.stage, e.kind, e.message, first_line + k + 1, first_offset + start, msgspec.Raw(text)))
            counts[3] += 1
            continue
        if r is None:
            counts[2] += 1
        else:
            out.append(r)
            counts[1] += 1
    return out


def main():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--processes", type=int, default=2)
    a = parser.parse_args()
    jobs = []
    for root, _, files in os.walk(a.input):
        for f in files:
            if f.endswith(".json.gz"):
                full = os.path.join(root, f)
                jobs.append((full, os.path.relpath(full, a.input)))
    jobs.sort(key=lambda j: j[1].encode())
    os.makedirs(a.output, exist_ok=True)
    totals = [0, 0, 0, 0]
    with open(os.path.join(a.output, "orders.ndjson.gz"), "wb") as out, \
         open(os.path.join(a.output, "errors.ndjson"), "wb") as err, \
         multiprocessing.get_context("fork").Pool(a.processes) as pool:
        for members, errors, counts in pool.imap(process_file, jobs):
            for m in members:
                out.write(m)
            for e in errors:
                err.write(e + b"\n")
            totals = [t + c for t, c in zip(totals, counts)]
    print(f"records in {totals[0]}, out {totals[1]}, filtered {totals[2]}, failed {totals[3]}", file=sys.stderr)


if __name__ == "__main__":
    main()
