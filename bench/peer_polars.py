#!/usr/bin/env python3
"""The bench transform of bench/orders-bench.yaml with Polars: a dataframe script.

Per input file (2 processes, a file each at a time, Polars on 1 thread in each, imported
in the worker only, after the fork): ISA-L inflates the whole file (`igzip.open().read()`),
numpy finds the line starts, `pl.read_ndjson` reads it with an explicit schema of the fields
the transform reads (the rest are skipped), and Polars expressions do the filter, the
validate stage's null checks, `items.list.len()` and the rounding; `write_ndjson` writes
the output, ISA-L deflates it (level 1). Line numbers come from the row index: Polars skips
blank lines, so a file whose every line does not start with `{` (blank or padded lines)
is not given to Polars (see below). The rows the validate stage or the shape stage
rejects (null id, total or items, a total below 0.005, negative or huge) are few; their
error lines come from a text pass over those lines alone: bench/peer_msgspec.py's generic
path, which writes Sluice's exact messages and source bytes.

Not like Sluice (labelled in bench/RESULTS.md): a file Polars refuses (a value of another
type than the schema's: a string id, an object for items, a non-object customer...) or
that has blank or padded lines goes line by line through the generic path, which is
correct but slow; an integer total comes out as a float (`5` → `5.0`, a different record
for bench/check_same.py): the bench data has none, the edge-case file does.

    python3 bench/peer_polars.py DIR OUT [--processes 2]
"""
import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")

from isal import igzip, isal_zlib

import peer_msgspec as base


def process_file(args):
    import polars as pl

    path, name, _ = args
    with igzip.open(path, "rb") as f:
        data = f.read()
    errors = []
    counts = [0, 0, 0, 0]  # in, out, filtered, failed
    starts, all_objects = base.line_starts(data)
    df = None
    if all_objects:
        schema = {"id": pl.Int64, "ts": pl.String, "status": pl.String,
                  "customer": pl.Struct({"id": pl.String, "country": pl.String}),
                  "items": pl.List(pl.Struct({"sku": pl.String})), "total": pl.Float64}
        try:
            df = pl.read_ndjson(data, schema=schema)
        except pl.exceptions.PolarsError:
            df = None
    if df is None or df.height != len(starts):
        out = base.slow_chunk(data, name, 0, 0, errors, counts)
        text = base.encoder.encode_lines(out)
        return [isal_zlib.compress(text, 1, wbits=31)], errors, counts

    x = pl.col("total") * 100.0
    df = df.with_row_index("row").filter(pl.col("status").is_null() | (pl.col("status") != "cancelled"))
    common = (pl.col("id").is_not_null() & pl.col("items").is_not_null() & (x >= 0.5) & (x < 4.5e15))
    good = df.filter(common).select(
        pl.col("id"), pl.col("ts"),
        pl.col("customer").struct.field("id").alias("customer_id"),
        pl.col("customer").struct.field("country").alias("country"),
        pl.col("total"),
        pl.col("items").list.len().cast(pl.Int64).alias("item_count"),
        (x + 0.5).floor().cast(pl.Int64).alias("total_cents"))  # round half away from zero, 0.5 <= x < 2**52
    odd = df.filter(~common.fill_null(False)).get_column("row").to_list()
    counts[0] += len(starts) - len(odd)
    counts[1] += good.height
    counts[2] += len(starts) - df.height
    members = [isal_zlib.compress(good.write_ndjson().encode(), 1, wbits=31)]
    extra = []
    size = len(data)
    for k in odd:
        start = int(starts[k])
        end = int(starts[k + 1]) - 1 if k + 1 < len(starts) else (size - 1 if data[-1] == 10 else size)
        r = base.generic_line(data[start:end], name, k + 1, start, errors, counts)
        if r is not None:
            extra.append(r)
    if extra:
        members.append(isal_zlib.compress(base.encoder.encode_lines(extra), 1, wbits=31))
    return members, errors, counts


if __name__ == "__main__":
    base.main(process_file, __doc__)
