#!/usr/bin/env python3
"""The bench transform of bench/orders-bench.yaml with orjson: the script most people write.

Same semantics, input and output as bench/peer_msgspec.py (read its docstring), but every
line is parsed whole into a dict by `orjson.loads` and every output record is a dict
written by `orjson.dumps`. 2 processes, a file each at a time. Gzip in and out through
ISA-L (`--gzip isal`, the default: `igzip.open`, level-1 `isal_zlib.compressobj`) or
through the standard library (`--gzip stdlib`: `gzip.open`, `zlib.compressobj(1)`).

Per record: one `loads`, a few dict lookups and type checks, one dict and one `dumps`. A
line the common path cannot take as it is (a failed rule, a missing, integer-overflowing or
tiny total, a customer that is not an object, items that are not an array, bad JSON, a
blank line) goes through bench/peer_msgspec.py's generic path, which writes Sluice's exact
values and messages, so both peers produce the same records and error lines.

    python3 bench/peer_orjson.py DIR OUT [--processes 2] [--gzip isal|stdlib]
"""
import gzip
import zlib

import orjson
from isal import igzip, isal_zlib

import peer_msgspec as base

CHUNK = 128 << 10


def lines_of(path, opener):
    """(line, start offset) for every line of a gzip file, LF removed."""
    rest = b""
    offset = 0
    with opener(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                yield line, offset
                offset += len(line) + 1
    if rest:
        yield rest, offset


def process_file(args):
    path, name, options = args
    stdlib = options.gzip == "stdlib"
    deflater = zlib.compressobj(1, zlib.DEFLATED, 31) if stdlib else isal_zlib.compressobj(1, wbits=31)
    members, errors = [], []
    counts = [0, 0, 0, 0]  # in, out, filtered, failed
    out = []
    loads, dumps = orjson.loads, orjson.dumps
    line_no = 0
    for text, offset in lines_of(path, gzip.open if stdlib else igzip.open):
        line_no += 1
        try:
            d = loads(text)
            if type(d) is not dict:
                raise ValueError
        except ValueError:  # orjson.JSONDecodeError too; blank lines, bad JSON, non-objects
            r = base.generic_line(text, name, line_no, offset, errors, counts)
            if r is not None:
                out.append(base.encoder.encode(r))
            continue
        counts[0] += 1
        if d.get("status") == "cancelled":
            counts[2] += 1
            continue
        i = d.get("id")
        t = d.get("total")
        items = d.get("items")
        c = d.get("customer")
        if type(i) is int and (type(t) is float or type(t) is int) and type(items) is list and (c is None or type(c) is dict):
            x = t * 100.0
            if 0.5 <= x < 4.5e15:  # round(x) halves away from zero is int(x + 0.5) here
                if c is None:
                    cid = country = None
                else:
                    cid = c.get("id")
                    country = c.get("country")
                out.append(dumps({"id": i, "ts": d.get("ts"), "customer_id": cid, "country": country,
                                  "total": t, "item_count": len(items), "total_cents": int(x + 0.5)}))
                counts[1] += 1
                if len(out) >= 1024:
                    out.append(b"")
                    members.append(deflater.compress(b"\n".join(out)))
                    out = []
                continue
        counts[0] -= 1  # generic_line counts it
        r = base.generic_line(text, name, line_no, offset, errors, counts)
        if r is not None:
            out.append(base.encoder.encode(r))
    if out:
        out.append(b"")
        members.append(deflater.compress(b"\n".join(out)))
    members.append(deflater.flush())
    return members, errors, counts


def options(parser):
    parser.add_argument("--gzip", choices=("isal", "stdlib"), default="isal")


if __name__ == "__main__":
    base.main(process_file, __doc__, options)
