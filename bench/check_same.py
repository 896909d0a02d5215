#!/usr/bin/env python3
"""Checks that two runs of the bench transform produced the same records and error lines.

    python3 bench/check_same.py SLUICE_OUT_DIR PEER_OUT_DIR [--error-fields F,F...]

Records (every *.ndjson.gz under each directory, all gzip members) are compared as a
multiset of parsed JSON objects, keys in order (Sluice copies values byte for byte; a
script re-encodes them, so `12.30` and `12.3` are the same record). Error lines (errors*.ndjson) are compared as a multiset of parsed objects over
file, stage, kind, message, line, offset and record (key order inside one line may differ).
`--error-fields file,stage,kind,message` compares error lines on those fields only (for a
peer that cannot give line numbers, offsets or source text, such as bench/peer_duckdb.py).
Exits 1 and prints a few differences when they differ.
"""
import collections
import glob
import gzip
import json
import os
import sys


def records(directory):
    lines = collections.Counter()
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.ndjson.gz"), recursive=True)):
        with gzip.open(path, "rb") as f:
            for line in f:
                lines[json.dumps(json.loads(line))] += 1
    return lines


ERROR_FIELDS = ("file", "stage", "kind", "message", "line", "offset", "record")


def errors(directory, fields=ERROR_FIELDS):
    lines = collections.Counter()
    for path in glob.glob(os.path.join(directory, "**", "errors*.ndjson"), recursive=True):
        with open(path, "rb") as f:
            for line in f:
                e = json.loads(line)
                key = {k: e.get(k) for k in fields}
                lines[json.dumps(key, sort_keys=True)] += 1
    return lines


def compare(what, a, b, names):
    if a == b:
        print(f"{what}: {sum(a.values())} equal")
        return True
    only_a, only_b = a - b, b - a
    print(f"{what}: DIFFERENT ({sum(a.values())} vs {sum(b.values())}; "
          f"{sum(only_a.values())} only in {names[0]}, {sum(only_b.values())} only in {names[1]})")
    for side, diff in ((names[0], only_a), (names[1], only_b)):
        for line in list(diff)[:3]:
            print(f"  only in {side}: {line[:300]!r}")
    return False


def main():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--error-fields", default=",".join(ERROR_FIELDS))
    args = parser.parse_args()
    a, b = args.a, args.b
    fields = tuple(args.error_fields.split(","))
    names = (os.path.basename(a.rstrip("/")) or a, os.path.basename(b.rstrip("/")) or b)
    ok = compare("records", records(a), records(b), names)
    what = "error lines" if fields == ERROR_FIELDS else f"error lines ({', '.join(fields)})"
    ok = compare(what, errors(a, fields), errors(b, fields), names) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
