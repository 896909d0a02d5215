#!/usr/bin/env python3
"""The Python peer of bench/orders-bench.yaml: what a careful engineer would script instead,
tuned as far as we could (issue 10 reports such a script; this is our own).

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
"record"} lines like Sluice's error report. Records come out in input order within a chunk
except that an odd record (below) follows the chunk's common ones; bench/check_same.py
compares multisets.

How it is fast (bench/RESULTS.md has the measured costs):
- 2 processes, a file each at a time (Pool.imap, output written in file order); the
  garbage collector off in the workers (nothing here makes cycles).
- ISA-L inflate (`igzip.open`, every member) read in 128 KiB decoded chunks: small chunks
  keep a chunk's objects in the CPU caches (512 KiB chunks were ~1.5x slower per file);
  ISA-L level-1 deflate of the output (`isal_zlib.compressobj(1, wbits=31)`, one member
  per input file).
- msgspec `decode_lines` of the whole chunk into `Struct(gc=False)`s holding only the fields
  the transform reads (msgspec skips the rest, unknown fields ignored), typed so that the
  decoder itself does most of the validate stage: `id: int` and `items: list[...]` are
  required, `customer` defaults to a frozen empty Customer and a missing total to -1.0,
  so the common record needs no None or type checks. A record those types refuse makes
  the chunk's decode fail; the chunk is then halved until the failing lines are alone,
  and only they take the generic path.
- numpy finds every line start in one pass (`flatnonzero(bytes == '\\n')`): it proves the
  decoder's records are the chunk's lines one to one (every line starts with `{`, as many
  records as lines; else the chunk goes line by line) and gives an odd record's line,
  offset and text without a Python loop over lines.
- per common record, one Python loop iteration: the filter, `x = total * 100.0`, one range
  test (0.5 <= x < 4.5e15, where round-half-away-from-zero is exactly int(x + 0.5)), and
  one `Out(...)` struct; then one `encode_lines` of the chunk's Outs.
- the odd record (a failed rule, a missing total, a total below 0.005, negative or huge,
  a value of another type, bad JSON, blank or padded lines) goes through a generic path
  that keeps values as their source bytes (msgspec.Raw) and writes Sluice's exact messages.
  Odd records cost time, never correctness (bench/peer_edgecases.py writes them; `bench/
  peers.sh --edge` checks every peer on them). As a script would, the fast path writes
  values re-encoded (`12.30` comes out as `12.3`), so bench/check_same.py compares
  records as parsed JSON. One known difference: a duplicate key (Sluice reads the first,
  msgspec the last).

    python3 bench/peer_msgspec.py DIR OUT [--processes 2]
"""
import gc
import math
import multiprocessing
import os
import sys

import msgspec
import numpy
from isal import igzip, isal_zlib

CHUNK = 128 << 10  # decoded bytes per chunk: its records stay in the CPU caches
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
NULL = msgspec.Raw(b"null")


class Customer(msgspec.Struct, gc=False, frozen=True):
    id: str | None = None
    country: str | None = None


NO_CUSTOMER = Customer()


class Item(msgspec.Struct, gc=False):
    pass


class Order(msgspec.Struct, gc=False):
    """The fields the transform reads, typed: a record whose values do not fit (a missing
    id or items, an id that is not an integer literal, a null customer, a number where a
    string was expected...) makes the chunk's fast decode fail."""
    id: int
    items: list[Item]
    ts: str | None = None
    status: str | None = None
    customer: Customer = NO_CUSTOMER
    total: int | float = -1.0  # missing: the record is odd (below)


class Out(msgspec.Struct, gc=False):
    id: int
    ts: str | None
    customer_id: str | None
    country: str | None
    total: int | float
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


def decoded_chunks(path):
    """The decoded bytes of a gzip file (every member; ISA-L's reader), in pieces of about
    CHUNK bytes that end at a line feed (the last piece may end without one)."""
    rest = b""
    with igzip.open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:
                rest += chunk
                continue
            yield rest + chunk[:cut] if rest else chunk[:cut]
            rest = chunk[cut:]
    if rest:
        yield rest


def process_file(args):
    """Reads one gzip NDJSON file; returns (gzip members of its output, error lines, counts)."""
    path, name = args[:2]
    members, errors = [], []
    counts = [0, 0, 0, 0]  # in, out, filtered, failed
    line_no = offset = 0
    deflater = isal_zlib.compressobj(1, wbits=31)
    for data in decoded_chunks(path):
        starts, all_objects = line_starts(data)
        out = process_chunk(data, name, line_no, offset, errors, counts, starts, all_objects)
        if out:
            members.append(deflater.compress(encoder.encode_lines(out)))
        line_no += len(starts)
        offset += len(data)
    members.append(deflater.flush())
    return members, errors, counts


def line_starts(data):
    """The offset of every line's first byte (numpy, one pass), and whether every line
    starts with '{' (then msgspec's records are the lines, one to one)."""
    view = numpy.frombuffer(data, numpy.uint8)
    starts = numpy.flatnonzero(view == 10)
    starts += 1
    if len(data) and data[-1] == 10:
        starts = starts[:-1]
    starts = numpy.concatenate(([0], starts)) if len(data) else starts
    return starts, bool(numpy.all(view[starts] == 123))


def process_chunk(data, name, first_line, first_offset, errors, counts, starts=None, all_objects=None):
    """The chunk's output records. A chunk the fast decode refuses (one bad line is enough)
    is cut in two at a line boundary and each half tried again, so a few bad lines cost a
    few small decodes (O(bad lines x log lines)), not the whole chunk on the slow path."""
    try:
        orders = fast_lines.decode_lines(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        middle = data.find(b"\n", len(data) // 2)
        if 0 <= middle < len(data) - 1:
            head, tail = data[:middle + 1], data[middle + 1:]
            out = process_chunk(head, name, first_line, first_offset, errors, counts)
            out += process_chunk(tail, name, first_line + head.count(b"\n"), first_offset + len(head), errors, counts)
            return out
        return slow_chunk(data, name, first_line, first_offset, errors, counts)
    if starts is None:
        starts, all_objects = line_starts(data)
    if not all_objects or len(starts) != len(orders):
        return slow_chunk(data, name, first_line, first_offset, errors, counts)
    out = []
    append = out.append
    odd = []
    filtered = 0
    try:
        for k, o in enumerate(orders):
            if o.status == "cancelled":
                filtered += 1
                continue
            t = o.total  # -1.0 when missing: that record takes the generic path
            x = t * 100.0
            # round(x) halves away from zero is int(x + 0.5) here: x + 0.5 is exact for
            # 0.5 <= x < 2**52 (an int total too: t * 100.0 is exact below 2**53).
            if 0.5 <= x < 4.5e15:
                c = o.customer
                append(Out(o.id, o.ts, c.id, c.country, t, len(o.items), int(x + 0.5)))
                continue
            odd.append(k)
    except OverflowError:  # an integer total beyond the double range
        return slow_chunk(data, name, first_line, first_offset, errors, counts)
    counts[0] += len(orders)
    counts[2] += filtered
    if odd:
        # A failing rule, a missing total, a total below 0.005 or huge: redone from its
        # line by the generic path (Sluice's exact values and messages).
        size = len(data)
        last = len(starts) - 1
        for k in odd:
            start = int(starts[k])
            end = int(starts[k + 1]) - 1 if k < last else (size - 1 if data[-1] == 10 else size)
            text = data[start:end]
            if text.endswith(b"\r"):
                text = text[:-1]
            try:
                r = shape_generic(text)
            except RecordError as e:
                errors.append(error_line(name, e.stage, e.kind, e.message, first_line + k + 1, first_offset + start, msgspec.Raw(text)))
                counts[3] += 1
                continue
            if r is None:
                counts[2] += 1
            else:
                append(r)
    counts[1] += len(out)
    return out


def slow_chunk(data, name, first_line, first_offset, errors, counts):
    """Line by line through the generic path: blank and padded lines, bad JSON, odd values."""
    out = []
    position = 0
    for k, text in enumerate(data.split(b"\n")):
        start = position
        position += len(text) + 1
        r = generic_line(text, name, first_line + k + 1, first_offset + start, errors, counts)
        if r is not None:
            out.append(r)
    return out


def generic_line(text, name, line_no, offset, errors, counts):
    """One line (its LF removed) through the generic path: its output record or None, its
    error line appended to errors; counts updated. The other peers use it for odd lines."""
    if text.endswith(b"\r"):
        text = text[:-1]
    if not text.strip(b" \t"):
        return None
    counts[0] += 1
    try:
        r = shape_generic(text)
    except msgspec.DecodeError as e:
        errors.append(error_line(name, "input", "parse", f"invalid JSON: {e}", line_no, offset, text.decode("utf-8", "replace")))
        counts[3] += 1
        return None
    except RecordError as e:
        errors.append(error_line(name, e.stage, e.kind, e.message, line_no, offset, msgspec.Raw(text)))
        counts[3] += 1
        return None
    if r is None:
        counts[2] += 1
    else:
        counts[1] += 1
    return r


def input_files(directory):
    jobs = []
    for root, _, files in os.walk(directory):
        for f in files:
            if f.endswith(".json.gz"):
                full = os.path.join(root, f)
                jobs.append((full, os.path.relpath(full, directory)))
    jobs.sort(key=lambda j: j[1].encode())
    return jobs


def main(process=None, doc=None, options=None):
    """Runs a peer: PROCESS(path, name) -> (gzip output pieces, error lines, counts) over
    every input file in 2 processes (by default), written in file order."""
    import argparse
    parser = argparse.ArgumentParser(description=(doc or __doc__).split("\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--processes", type=int, default=2)
    if options:
        options(parser)
    a = parser.parse_args()
    jobs = [(path, name, a) for path, name in input_files(a.input)]
    os.makedirs(a.output, exist_ok=True)
    totals = [0, 0, 0, 0]
    with open(os.path.join(a.output, "orders.ndjson.gz"), "wb") as out, \
         open(os.path.join(a.output, "errors.ndjson"), "wb") as err, \
         multiprocessing.get_context("fork").Pool(a.processes, initializer=gc.disable) as pool:
        for members, errors, counts in pool.imap(process or process_file, jobs):
            for m in members:
                out.write(m)
            for e in errors:
                err.write(e + b"\n")
            totals = [t + c for t, c in zip(totals, counts)]
    print(f"records in {totals[0]}, out {totals[1]}, filtered {totals[2]}, failed {totals[3]}", file=sys.stderr)


if __name__ == "__main__":
    main()
