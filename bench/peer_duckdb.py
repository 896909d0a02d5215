#!/usr/bin/env python3
"""The bench transform of bench/orders-bench.yaml in DuckDB SQL: `read_ndjson` + an errors pass.

Per input file (2 processes, a file each at a time, DuckDB on 1 thread in each, imported in
the worker only, after the fork): DuckDB reads the gzip NDJSON itself (`read_ndjson` with
explicit `columns` of the fields the transform reads, into a temporary table), `COPY`s the
kept records to OUT/duckdb/NAME.ndjson.gz (DuckDB's JSON writer and gzip), and an errors
query selects the rows the validate stage rejects. `round()` in DuckDB halves away from
zero, as Sluice's does.

Not like Sluice (labelled in bench/RESULTS.md; bench/check_same.py --error-fields
file,stage,kind,message compares what there is): `read_ndjson` gives no line numbers, byte
offsets or source text, so the error lines have none (their "record" is the row DuckDB
read, re-encoded), and a missing field and a null one are the same NULL, so both read
"missing required field '...'". A value of another type than the column's (a string id,
an object for items) fails the whole file. The bench data has none of these but the
missing totals.

    python3 bench/peer_duckdb.py DIR OUT [--processes 2]
"""
import json
import os

import peer_msgspec as base

COLUMNS = ("{'id': 'BIGINT', 'ts': 'VARCHAR', 'status': 'VARCHAR', "
           "'customer': 'STRUCT(id VARCHAR, country VARCHAR)', 'items': 'STRUCT(sku VARCHAR)[]', 'total': 'DOUBLE'}")


def quoted(s):
    return "'" + s.replace("'", "''") + "'"


def process_file(args):
    import duckdb

    path, name, options = args
    out_dir = os.path.join(options.output, "duckdb")
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, name.replace("/", "_") + ".ndjson.gz")
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"CREATE TEMP TABLE t AS SELECT * FROM read_ndjson({quoted(path)}, columns = {COLUMNS}, "
                "format = 'newline_delimited', compression = 'gzip')")
    kept = "(status IS NULL OR status <> 'cancelled')"
    valid = "(id IS NOT NULL AND total IS NOT NULL)"
    con.execute(f"""COPY (SELECT id, ts, customer.id AS customer_id, customer.country AS country, total,
                         len(items) AS item_count, CAST(round(total * 100) AS BIGINT) AS total_cents
                         FROM t WHERE {kept} AND {valid}) TO {quoted(target)} (FORMAT json, COMPRESSION gzip)""")
    rows = con.execute(f"""SELECT id IS NULL, total IS NULL, to_json(t) FROM t WHERE {kept} AND NOT {valid}""").fetchall()
    total, out, filtered = con.execute(f"""SELECT count(*), count(*) FILTER ({kept} AND {valid}),
                                           count(*) FILTER (NOT {kept}) FROM t""").fetchone()
    con.close()
    errors = []
    for id_null, total_null, record in rows:
        problems = [f"missing required field '{f}'" for f, null in (("id", id_null), ("total", total_null)) if null]
        errors.append(json.dumps({"file": name, "stage": "check", "kind": "validation", "message": "; ".join(problems),
                                  "line": None, "offset": None, "record": json.loads(record)}).encode())
    return [], errors, [total, out, filtered, len(rows)]


if __name__ == "__main__":
    base.main(process_file, __doc__)
