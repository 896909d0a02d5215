"""Reads Sluice's Parquet output back with PyArrow, DuckDB and Polars and compares every
row and type with the NDJSON output of the same pipeline (the oracle: each JSON value
converted here, independently of Sluice, to what its column type says).

  parquet_readers.py modules                 -> prints the reader modules that import
  parquet_readers.py check SPEC.json         -> exit 0, or 1 with the first difference
  parquet_readers.py metadata FILE.parquet   -> prints ParquetFile.metadata as JSON

SPEC: {"parquet": [files] or "glob": "dir/**/*.parquet", "ndjson": [files],
       "columns": [{"name", "type", "path"?, "fields"?}], "readers": [...],
       "hive": ["country"] (partition columns, read with hive_partitioning)}
"""
import datetime
import decimal
import glob
import json
import re
import sys

decimal.getcontext().prec = 80
EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def parse_type(text):
    t = text.replace(" ", "").lower()
    if t.startswith("list<"):
        return ("list", parse_type(t[5:-1]))
    m = re.fullmatch(r"timestamp(?:\((ms|us)(?:,(utc|local))?\))?", t)
    if m:
        return ("timestamp", m.group(1) or "us", (m.group(2) or "utc") == "utc")
    m = re.fullmatch(r"decimal\((\d+),(\d+)\)", t)
    if m:
        return ("decimal", int(m.group(1)), int(m.group(2)))
    return (t,)


def lookup(record, path):
    value = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def units(dt, unit, utc):
    base = EPOCH_UTC if dt.tzinfo is not None else EPOCH
    micros = (dt - base) // datetime.timedelta(microseconds=1)
    return micros if unit == "us" else micros // 1000


def expected(value, t, fields=None):
    """A JSON value as its column type holds it, in canonical form."""
    if value is None:
        return None
    kind = t[0]
    if kind == "list":
        return [expected(v, t[1]) for v in value]
    if kind == "struct":
        return {f["name"]: expected(value.get(f["name"]), parse_type(f["type"])) for f in fields}
    if kind in ("int32", "int64"):
        return int(value)
    if kind == "double":
        return float(value)
    if kind == "bool":
        return value if isinstance(value, bool) else value in ("true", "1")
    if kind in ("string", "binary"):
        return value
    if kind == "date":
        return datetime.date.fromisoformat(value).isoformat()
    if kind == "timestamp":
        if isinstance(value, int):
            return value
        dt = datetime.datetime.fromisoformat(value.replace("z", "Z"))
        if t[2] and dt.tzinfo is None:
            dt = dt.replace(tzinfo=datetime.timezone.utc)
        return units(dt, t[1], t[2])
    if kind == "decimal":
        return str(decimal.Decimal(str(value)).quantize(decimal.Decimal(1).scaleb(-t[2])))
    raise ValueError("unknown type %r" % (t,))


def canonical(value, t, fields=None):
    """A reader's value in the same canonical form."""
    if value is None:
        return None
    kind = t[0]
    if kind == "list":
        return [canonical(v, t[1]) for v in value]
    if kind == "struct":
        return {f["name"]: canonical(value.get(f["name"]), parse_type(f["type"])) for f in fields}
    if kind == "binary":
        return bytes(value).decode("utf-8")
    if kind == "date":
        return value.isoformat()
    if kind == "timestamp":
        if t[2] and value.tzinfo is None:
            raise AssertionError("a UTC timestamp came back without a time zone: %r" % value)
        if not t[2] and value.tzinfo is not None:
            raise AssertionError("a local timestamp came back with a time zone: %r" % value)
        return units(value, t[1], t[2])
    if kind == "decimal":
        return str(decimal.Decimal(value).quantize(decimal.Decimal(1).scaleb(-t[2])))
    if kind == "double":
        return float(value)
    return value


ARROW_TYPES = {"bool": "bool", "int32": "int32", "int64": "int64", "double": "double", "string": "string",
               "binary": "binary", "date": "date32[day]"}
DUCKDB_TYPES = {"bool": "BOOLEAN", "int32": "INTEGER", "int64": "BIGINT", "double": "DOUBLE", "string": "VARCHAR",
                "binary": "BLOB", "date": "DATE"}
POLARS_TYPES = {"bool": "Boolean", "int32": "Int32", "int64": "Int64", "double": "Float64", "string": "String",
                "binary": "Binary", "date": "Date"}


def type_name(reader, t, fields=None):
    kind = t[0]
    if reader == "pyarrow":
        if kind == "list":
            return "list<element: %s>" % type_name(reader, t[1])
        if kind == "struct":
            return "struct<%s>" % ", ".join("%s: %s" % (f["name"], type_name(reader, parse_type(f["type"]))) for f in fields)
        if kind == "timestamp":
            return "timestamp[%s%s]" % (t[1], ", tz=UTC" if t[2] else "")
        if kind == "decimal":
            return "decimal%d(%d, %d)" % (128 if t[1] <= 38 else 256, t[1], t[2])
        return ARROW_TYPES[kind]
    if reader == "duckdb":
        if kind == "list":
            return type_name(reader, t[1]) + "[]"
        if kind == "struct":
            return "STRUCT(%s)" % ", ".join("%s %s" % (f["name"], type_name(reader, parse_type(f["type"]))) for f in fields)
        if kind == "timestamp":
            return "TIMESTAMP WITH TIME ZONE" if t[2] else ("TIMESTAMP" if t[1] == "us" else "TIMESTAMP_MS")
        if kind == "decimal":
            return "DECIMAL(%d,%d)" % (t[1], t[2]) if t[1] <= 38 else "DOUBLE"
        return DUCKDB_TYPES[kind]
    if reader == "polars":
        if kind == "list":
            return "List(%s)" % type_name(reader, t[1])
        if kind == "struct":
            return "Struct"
        if kind == "timestamp":
            return "Datetime(time_unit='%s', time_zone=%s)" % (t[1], "'UTC'" if t[2] else "None")
        if kind == "decimal":
            return "Decimal(precision=%d, scale=%d)" % (t[1], t[2])
        return POLARS_TYPES[kind]


def read(reader, files, pattern, hive):
    """(column name -> type text, rows as dicts) as the reader returns them."""
    if reader == "pyarrow":
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq
        if hive:
            base = pattern.split("/**")[0]
            table = ds.dataset(files, format="parquet", partitioning="hive", partition_base_dir=base).to_table()
        else:
            import pyarrow as pa
            tables = [pq.read_table(f) for f in files]
            table = pa.concat_tables(tables) if tables else None
        return {f.name: str(f.type) for f in table.schema}, table.to_pylist()
    if reader == "duckdb":
        import duckdb
        con = duckdb.connect()
        source = "read_parquet(%r, hive_partitioning=%s)" % (pattern if hive else files, "true" if hive else "false")
        rel = con.sql("SELECT * FROM " + source)
        names = rel.columns
        types = {n: str(t) for n, t in zip(names, rel.types)}
        return types, [dict(zip(names, row)) for row in rel.fetchall()]
    if reader == "polars":
        import polars as pl
        if hive:
            frame = pl.read_parquet(pattern, hive_partitioning=True)
        else:
            frame = pl.concat([pl.read_parquet(f) for f in files])
        types = {}
        for n, t in frame.schema.items():
            text = repr(t)
            types[n] = "Struct" if text.startswith("Struct") else text
        return types, frame.to_dicts()
    raise ValueError(reader)


def check(spec):
    columns = spec["columns"]
    hive = spec.get("hive") or []
    records = []
    for path in spec["ndjson"]:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    records.append(json.loads(line, parse_float=decimal.Decimal))
    want = [{c["name"]: expected(lookup(r, c.get("path", c["name"])), parse_type(c["type"]), c.get("fields")) for c in columns}
            for r in records]
    for r, row in zip(records, want):
        for h in hive:
            row[h] = str(lookup(r, h))
    files = spec.get("parquet") or sorted(glob.glob(spec["glob"], recursive=True))
    pattern = spec.get("glob", "")
    key = spec.get("sort_by")
    for reader in spec["readers"]:
        types, rows = read(reader, files, pattern, hive)
        for c in columns:
            t = parse_type(c["type"])
            got = types.get(c["name"])
            name = type_name(reader, t, c.get("fields"))
            if got != name:
                raise AssertionError("%s: column %s has type %s, expected %s" % (reader, c["name"], got, name))
        canon = []
        for row in rows:
            out = {c["name"]: canonical(row[c["name"]], parse_type(c["type"]), c.get("fields")) for c in columns}
            for h in hive:
                out[h] = str(row[h])
            canon.append(out)
        expect = want
        if key:
            canon = sorted(canon, key=lambda r: r[key])
            expect = sorted(want, key=lambda r: r[key])
        if len(canon) != len(expect):
            raise AssertionError("%s: %d rows, expected %d" % (reader, len(canon), len(expect)))
        for i, (g, w) in enumerate(zip(canon, expect)):
            if g != w:
                raise AssertionError("%s: row %d is %r, expected %r" % (reader, i, g, w))
        print("%s: %d rows and %d column types as written" % (reader, len(canon), len(columns)))


def metadata(path):
    import pyarrow.parquet as pq
    md = pq.ParquetFile(path).metadata
    out = {"num_rows": md.num_rows, "num_row_groups": md.num_row_groups, "created_by": md.created_by,
           "key_value": {k.decode(): v.decode() for k, v in (md.metadata or {}).items()}, "row_groups": []}
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        cols = []
        for c in range(rg.num_columns):
            col = rg.column(c)
            stats = col.statistics
            cols.append({"path": col.path_in_schema, "encodings": list(col.encodings), "compression": col.compression,
                         "has_dictionary_page": col.has_dictionary_page,
                         "min": None if stats is None or not stats.has_min_max else str(stats.min),
                         "max": None if stats is None or not stats.has_min_max else str(stats.max),
                         "null_count": None if stats is None else stats.null_count})
        out["row_groups"].append({"num_rows": rg.num_rows, "columns": cols})
    print(json.dumps(out))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "modules":
        found = []
        for name in ("pyarrow", "duckdb", "polars"):
            try:
                __import__(name)
                found.append(name)
            except Exception:
                pass
        print(" ".join(found))
    elif command == "check":
        try:
            with open(sys.argv[2]) as f:
                check(json.load(f))
        except AssertionError as e:
            print(str(e))
            sys.exit(1)
    elif command == "metadata":
        metadata(sys.argv[2])
