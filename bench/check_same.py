#!/usr/bin/env python3
"""Checks that two runs of the bench transform produced the same records and error lines.

    python3 bench/check_same.py SLUICE_OUT_DIR PEER_OUT_DIR

Records (every *.ndjson.gz under each directory, all gzip members) are compared as a
multiset of parsed JSON objects, keys in order (Sluice copies values byte for byte; a
script re-encodes them, so `12.30` and `12.3` are the same record). Error lines (errors*.ndjson) are compared as a multiset of parsed objects over
file, stage, kind, message, line, offset and record (key order inside one line may differ).
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


def errors(directory):
    lines = collections.Counter()
    for path in glob.glob(os.path.join(directory, "**", "errors*.ndjson"), recursive=True):
        with open(path, "rb") as f:
            for line in f:
                e = json.loads(line)
                key = {k: e.get(k) for k in ("file", "stage", "kind", "message", "line", "offset", "record")}
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
    a, b = sys.argv[1], sys.argv[2]
    names = (os.path.basename(a.rstrip("/")) or a, os.path.basename(b.rstrip("/")) or b)
    ok = compare("records", records(a), records(b), names)
    ok = compare("error lines", errors(a), errors(b), names) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
