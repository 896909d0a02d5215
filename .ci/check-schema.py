#!/usr/bin/env python3
"""Validates every pipeline in pipelines/ against docs/sluice.schema.json (the schema
`sluice schema` writes). Skips, with a note, where PyYAML or jsonschema is missing."""
import glob, json, sys

try:
    import jsonschema
    import yaml
except ImportError as missing:
    print(f"schema check skipped: {missing}")
    sys.exit(0)

schema = json.load(open("docs/sluice.schema.json"))
failed = 0
for path in sorted(glob.glob("pipelines/*.yaml")):
    if path.endswith(".tests.yaml"):
        continue
    try:
        jsonschema.validate(yaml.safe_load(open(path)), schema)
        print(f"{path}: matches the schema")
    except jsonschema.ValidationError as error:
        failed += 1
        print(f"{path}: {error.message} at {'/'.join(map(str, error.path))}")
sys.exit(1 if failed else 0)
