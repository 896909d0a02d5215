#!/usr/bin/env python3
"""The Python peer of bench/orders-xml-bench.yaml: the XML transform as a careful engineer
would script it with lxml's iterparse, in 2 processes.

Does the bench transform with Sluice's semantics (README "XML input", docs/expressions.md):

  records         every /orders/order element, mapped as Sluice maps XML (attributes as
                  "@name" first, child elements in order of first appearance, a repeated
                  name or `item` (input.xml.arrays) as an array, a leaf as its text)
  drop-cancelled  filter 'status != "cancelled"'   (missing status is null, so it is kept)
  check           validate required ["@id", total] (every broken rule in one message, "; ")
  shape           select id: @id, ts, customer_id: customer.@id, country: customer.country,
                  total, item_count: len(items.item)

Input: every **/*.xml.gz under DIR, in byte order of the relative path, gunzipped with ISA-L
(`isal.igzip`) and parsed by `lxml.etree.iterparse` (libxml2), no entity expansion, no
network, each finished <order> cleared and dropped from the tree so memory stays flat.
Output: OUT/orders.ndjson.gz (gzip level 1 via ISA-L, one member per 4 MiB of output) and
OUT/errors.ndjson with {"file","stage","kind","message","line","offset","record"} lines like
Sluice's error report: line = the line of the record's start tag (libxml2's, as Sluice's),
offset = the decoded byte offset of the `>` that ends it (as Sluice reports it), record =
the whole record in Sluice's JSON mapping.

Tuned: the common record (each field read once, one pass over the children, no dict built)
is handled inline; a record whose shape is unusual (a repeated or nested field that the
transform reads, attributes on a leaf) or that fails a rule is mapped in full and redone by
the generic path, so odd records cost time, never correctness. Results are written in file
order; bench/check_same.py compares them with Sluice's as parsed JSON.

    python3 bench/peer_lxml.py DIR OUT [--processes 2]
"""
import multiprocessing
import os
import sys

import msgspec
from isal import igzip, isal_zlib
from lxml import etree

OUT_CHUNK = 4 << 20
ARRAYS = frozenset(["item"])
encoder = msgspec.json.Encoder()


class Out(msgspec.Struct):
    id: str | None
    ts: object
    customer_id: object
    country: object
    total: object
    item_count: int


class RecordError(Exception):
    def __init__(self, stage, kind, message):
        self.stage, self.kind, self.message = stage, kind, message


class Window:
    """A file object over the gunzipped stream that remembers the last few chunks lxml read,
    with their offsets and line numbers, to tell a failed record's byte offset."""

    def __init__(self, raw):
        self.raw = raw
        self.chunks = []  # (offset, first line, bytes)
        self.offset = 0
        self.line = 1

    def read(self, n=-1):
        data = self.raw.read(n if n and n > 0 else 1 << 20)
        if data:
            self.chunks.append((self.offset, self.line, data))
            if len(self.chunks) > 8:
                del self.chunks[0]
            self.offset += len(data)
            self.line += data.count(b"\n")
        return data

    def end_of_start_tag(self, line):
        """Decoded offset of the '>' ending the start tag of the record on `line`, or -1."""
        for i, (offset, first, data) in enumerate(self.chunks):
            last = self.chunks[i + 1][1] if i + 1 < len(self.chunks) else self.line
            if first <= line <= last:
                text = b"".join(c[2] for c in self.chunks[i:])
                at = 0
                for _ in range(line - first):
                    at = text.find(b"\n", at) + 1
                start = text.find(b"<order", at)
                end = text.find(b">", start)
                return offset + end if start >= 0 and end >= 0 else -1
        return -1


def name(tag):
    """Sluice writes names as the document does; this bench has no namespaces."""
    return tag


def value(e):
    """Sluice's mapping of an element: a leaf is its text, else an object."""
    children = [c for c in e if isinstance(c.tag, str)]  # not comments, processing instructions
    if not children and not e.attrib:
        return text_of(e)
    out = {}
    for k, v in e.attrib.items():
        out["@" + k] = v
    groups = {}
    for c in children:
        groups.setdefault(name(c.tag), []).append(value(c))
    for k, vs in groups.items():
        out[k] = vs if len(vs) > 1 or k in ARRAYS else vs[0]
    if has_text(e):
        out["#text"] = text_of(e)
    return out


def text_pieces(e):
    """Text runs of `e` itself (comments and PIs do not cut a run); whitespace-only runs dropped."""
    runs, run = [], e.text or ""
    for c in e:
        if isinstance(c.tag, str):
            runs.append(run)
            run = c.tail or ""
        else:
            run += c.tail or ""
    runs.append(run)
    return [r for r in runs if r.strip(" \t\r\n")]


def has_text(e):
    return bool(text_pieces(e))


def text_of(e):
    return "".join(text_pieces(e))


def member(v, key):
    return v.get(key) if isinstance(v, dict) else None


def shape_generic(record):
    """The transform on a record mapped in full (a dict)."""
    if record.get("status") == "cancelled":
        return None
    problems = [f"missing required field '{k}'" for k in ("@id", "total") if k not in record]
    if problems:
        raise RecordError("check", "validation", "; ".join(problems))
    items = member(record.get("items"), "item")
    if isinstance(items, (list, dict, str)):
        count = len(items)
    else:
        kind = "null" if items is None else type(items).__name__
        raise RecordError("shape", "transform", f"len() needs a string, array or object, got {kind} in 'len(items.item)'")
    customer = record.get("customer")
    return Out(record["@id"], record.get("ts"), member(customer, "@id"), member(customer, "country"), record["total"], count)


def process_file(args):
    """Reads one gzip XML file; returns (gzip members of its output, error lines, counts)."""
    path, fname = args
    members, errors, out = [], [], []
    counts = [0, 0, 0, 0]  # in, out, filtered, failed
    out_bytes = 0
    with igzip.open(path, "rb") as raw:
        window = Window(raw)
        context = etree.iterparse(window, events=("end",), tag="order", resolve_entities=False, no_network=True,
                                  huge_tree=False, remove_comments=False)
        for _, e in context:
            parent = e.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # only /orders/order
            counts[0] += 1
            result = None
            odd = False
            status = ts = customer = items = total = None
            for c in e:
                t = c.tag
                if t == "status":
                    if status is not None or len(c) or c.attrib:
                        odd = True
                    status = c
                elif t == "ts":
                    if ts is not None or len(c) or c.attrib:
                        odd = True
                    ts = c
                elif t == "customer":
                    if customer is not None:
                        odd = True
                    customer = c
                elif t == "items":
                    if items is not None:
                        odd = True
                    items = c
                elif t == "total":
                    if total is not None or len(c) or c.attrib:
                        odd = True
                    total = c
            record_id = e.get("id")
            if not odd and status is not None and status.text == "cancelled":
                counts[2] += 1
            elif not odd and record_id is not None and total is not None and items is not None and customer is not None:
                n = 0
                plain = not items.attrib
                for c in items:
                    if c.tag == "item":
                        n += 1
                    else:
                        plain = False
                country = None
                plain_customer = True
                for c in customer:
                    if c.tag == "country":
                        if country is not None or len(c) or c.attrib:
                            plain_customer = False
                        country = c
                if n and plain and plain_customer and country is not None:
                    t, s, k = total.text, ts.text if ts is not None else None, country.text
                    result = Out(record_id, (s if s and s.strip(" \t\r\n") else "") if ts is not None else None,
                                 customer.get("id"), k if k and k.strip(" \t\r\n") else "",
                                 t if t and t.strip(" \t\r\n") else "", n)
                else:
                    odd = True
            else:
                odd = True
            if odd:
                record = value(e)
                try:
                    result = shape_generic(record)
                except RecordError as err:
                    # lxml 6.1 / libxml2 2.14 report lines past 65535 one too high (the big-line
                    # workaround of xmlGetLineNo); checked against a count of newlines.
                    line = e.sourceline - 1 if e.sourceline > 65535 else e.sourceline
                    errors.append(encoder.encode({"file": fname, "stage": err.stage, "kind": err.kind, "message": err.message,
                                                  "line": line, "offset": window.end_of_start_tag(line),
                                                  "record": record}))
                    counts[3] += 1
            if result is not None:
                out.append(result)
                counts[1] += 1
                out_bytes += 110
                if out_bytes >= OUT_CHUNK:
                    members.append(isal_zlib.compress(encoder.encode_lines(out), 1, wbits=31))
                    out, out_bytes = [], 0
            # Free what is parsed: the record and the records before it.
            e.clear()
            while e.getprevious() is not None:
                del parent[0]
    if out:
        members.append(isal_zlib.compress(encoder.encode_lines(out), 1, wbits=31))
    counts[2] = counts[0] - counts[1] - counts[3]
    return members, errors, counts


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
            if f.endswith(".xml.gz"):
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
