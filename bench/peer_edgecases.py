#!/usr/bin/env python3
"""Writes DIR/edge.json.gz: bench-shaped orders mixed with every odd record the peers'
fast paths must hand to the generic path, so that `bench/peers.sh --edge` can show each
peer producing Sluice's records and error lines on them, not only on the generated bench.

    python3 bench/peer_edgecases.py DIR [--repeat 300]

The odd lines are repeated between ordinary ones (--repeat times) so that they land in
many chunks and at chunk boundaries of every peer. Not included: syntactically broken
JSON (the error message is each parser's own wording, not Sluice's), and duplicate keys
(Sluice reads the first `"total"` of `{"total":1.5,"total":2.5}`, msgspec and orjson the
last; making a peer find duplicates would cost it a parser of its own).
"""
import argparse
import gzip
import os

ORDINARY = ('{"id":%d,"ts":"2026-11-05T10:00:00Z","status":"paid","customer":{"id":"c-1","country":"DE",'
            '"name":"Zo\\u00eb","email":"a@example.com"},"items":[{"sku":"S","qty":1,"price":12.30}],'
            '"total":12.30,"currency":"EUR","notes":""}')

ODD = [
    # the filter
    '{"id":1,"status":"cancelled","total":"x"}',
    '{"id":2,"status":"cancel\\u006ced","items":[],"total":1.5}',
    '{"id":3,"status":null,"items":[],"total":1.5}',
    '{"id":4,"status":5,"items":[],"total":1.5}',
    # validate
    '{"status":"paid","items":[],"total":1.5}',
    '{"id":null,"items":[],"total":1.5}',
    '{"id":6,"items":[]}',
    '{"id":7,"items":[],"total":null}',
    '{"id":8.0,"items":[],"total":1.5}',
    '{"id":9e0,"items":[],"total":1.5}',
    '{"id":"10","items":[],"total":1.5}',
    '{"id":11,"items":[],"total":"1.5"}',
    '{"id":12,"items":[],"total":true}',
    '{"id":true,"total":false}',
    '{}',
    # shape: totals
    '{"id":20,"items":[],"total":5}',
    '{"id":21,"items":[],"total":-5}',
    '{"id":22,"items":[],"total":-2.5}',
    '{"id":23,"items":[],"total":0.004}',
    '{"id":24,"items":[],"total":0.005}',
    '{"id":25,"items":[],"total":2.675}',
    '{"id":26,"items":[],"total":1.005}',
    '{"id":27,"items":[],"total":0}',
    '{"id":28,"items":[],"total":-0.0}',
    '{"id":29,"items":[],"total":1e17}',
    '{"id":30,"items":[],"total":1e400}',
    '{"id":31,"items":[],"total":92233720368547758}',
    '{"id":32,"items":[],"total":12345678901234567890}',
    '{"id":33,"items":[],"total":4503599627370495.5}',
    '{"id":34,"items":[],"total":12.300}',
    '{"id":35,"items":[],"total":1E2}',
    # shape: ids, items, customer, ts
    '{"id":-0,"items":[],"total":1.5}',
    '{"id":18446744073709551616,"items":[],"total":1.5}',
    '{"id":40,"total":1.5}',
    '{"id":41,"items":null,"total":1.5}',
    '{"id":42,"items":{"a":1,"b":2},"total":1.5}',
    '{"id":43,"items":"h\\u00e9llo","total":1.5}',
    '{"id":44,"items":5,"total":1.5}',
    '{"id":45,"items":[1,"two",null,[3]],"total":1.5}',
    '{"id":46,"items":[],"total":1.5,"customer":null}',
    '{"id":47,"items":[],"total":1.5,"customer":"c-9"}',
    '{"id":48,"items":[],"total":1.5,"customer":{"id":7,"country":["DE"]}}',
    '{"id":49,"items":[],"total":1.5,"customer":{}}',
    '{"id":50,"items":[],"total":1.5,"ts":null}',
    '{"id":51,"items":[],"total":1.5,"ts":1700000000}',
    '{"id":52,"items":[],"total":1.5,"ts":"tab\\there \\"q\\" \\ud83d\\ude00"}',
    '{"id":56,"items":[{"total":99}],"customer":{"id":"x","customer":{"id":"y"}},"total":1.5}',
    # layout
    '  {"id":60,"items":[],"total":1.5}  ',
    '\t{"id":61,"items":[],"total":1.5}',
    '{"id":62,"items":[],"total":1.5}\r',
    '',
    '   ',
    '\r',
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--repeat", type=int, default=300)
    a = parser.parse_args()
    os.makedirs(a.directory, exist_ok=True)
    lines = []
    n = 100
    for r in range(a.repeat):
        for k, odd in enumerate(ODD):
            for _ in range((r * 7 + k * 13) % 40):
                n += 1
                lines.append(ORDINARY % n)
            lines.append(odd)
    with gzip.open(os.path.join(a.directory, "edge.json.gz"), "wb", compresslevel=1) as f:
        f.write(("\n".join(lines) + "\n").encode())
    print(f"{len(lines)} lines, {a.repeat * len(ODD)} odd, in {a.directory}/edge.json.gz")


if __name__ == "__main__":
    main()
