#!/usr/bin/env python3
"""Checks docs/sluice.schema.json (the schema `sluice schema` writes, generated from the
same key table the loader reads through):

- every pipeline in pipelines/ matches it;
- every stage kind's example in docs/stages.md (generated from the same declarations)
  matches it, so each kind's declared keys and types accept a working config;
- configs the loader refuses for a stage key's type or a missing required key are
  refused by the schema too (stage keys carry types and `required`).

Skips, with a note, where PyYAML or jsonschema is missing."""
import glob, json, re, sys

try:
    import jsonschema
    import yaml
except ImportError as missing:
    print(f"schema check skipped: {missing}")
    sys.exit(0)

schema = json.load(open("docs/sluice.schema.json"))
failed = 0


def config_with(stage):
    return {"name": "t", "input": {"path": "in"}, "output": {"path": "out"}, "stages": [stage]}


def check(label, document, should_match):
    global failed
    try:
        jsonschema.validate(document, schema)
        matched, why = True, ""
    except jsonschema.ValidationError as error:
        matched, why = False, f"{error.message} at {'/'.join(map(str, error.path))}"
    if matched == should_match:
        print(f"{label}: {'matches' if matched else 'refused by'} the schema{' (' + why + ')' if why else ''}")
    else:
        failed += 1
        print(f"{label}: expected the schema to {'accept' if should_match else 'refuse'} it{': ' + why if why else ''}")


for path in sorted(glob.glob("pipelines/*.yaml")):
    if path.endswith(".tests.yaml"):
        continue
    check(path, yaml.safe_load(open(path)), True)

examples = re.findall(r"```yaml\n(- [a-z_]+: .*?)\n```", open("docs/stages.md").read(), re.S)
kinds = set(schema["properties"]["stages"]["items"]["properties"]) - {"name", "workers", "queue", "on_error"}
seen = set()
for example in examples:
    stage = yaml.safe_load(example)[0]
    seen.update(stage)
    check(f"docs/stages.md example {next(iter(stage))}", config_with(stage), True)
if seen != kinds:
    failed += 1
    print(f"docs/stages.md: examples for {sorted(seen)}, schema kinds {sorted(kinds)}")

for label, stage in [
    ("dedupe without its required key", {"dedupe": {"max_keys": 10}}),
    ("lookup without key_column", {"lookup": {"file": "f.csv", "key": "id"}}),
    ("limit given a string", {"limit": "ten"}),
    ("dedupe.max_keys below its range", {"dedupe": {"key": "id", "max_keys": 0}}),
    ("command.timeout given a list", {"command": {"run": ["x"], "timeout": [1]}}),
    ("flatten.arrays not a declared word", {"flatten": {"arrays": "nope"}}),
    ("two kinds in one stage", {"filter": "true", "limit": 1}),
]:
    check(label, config_with(stage), False)
sys.exit(1 if failed else 0)
