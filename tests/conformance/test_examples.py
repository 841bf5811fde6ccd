"""The example documents (hospital/conformance/examples/hospital-rx-export-1/ and -2/): each gets from
`hospital rx verify` exactly the verdict its manifest.json records (valid, or the problem codes), and the valid one
is the worked example of its format's published JSON Schema. The -1 set was signed before issue 19's readable
payload and keeps verifying as it did."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hospital.cli import main

pytestmark = pytest.mark.requirement("RX-05", "RX-06")

EXAMPLES = Path(str(resources.files("hospital.conformance").joinpath("examples")))
FOLDER = EXAMPLES / "hospital-rx-export-1"
MANIFEST = json.loads((FOLDER / "manifest.json").read_text(encoding="utf-8"))
FOLDER_2 = EXAMPLES / "hospital-rx-export-2"
MANIFEST_2 = json.loads((FOLDER_2 / "manifest.json").read_text(encoding="utf-8"))
EVERY_EXAMPLE = [(FOLDER, e) for e in MANIFEST["examples"]] + [(FOLDER_2, e) for e in MANIFEST_2["examples"]]


@pytest.mark.parametrize(("folder", "example"), EVERY_EXAMPLE, ids=lambda v: v["file"] if isinstance(v, dict) else v.name)
def test_rx_verify_gives_each_example_its_recorded_verdict(folder: Path, example: dict[str, Any]) -> None:
    result = CliRunner().invoke(main, ["rx", "verify", str(folder / example["file"]), "--ca",
                                       str(folder / example["trust"]), "--at", example["at"]])
    report = json.loads(result.output)
    assert result.exit_code == (0 if example["expected"]["ok"] else 1)
    assert report["ok"] is example["expected"]["ok"]
    assert sorted({p["code"] for p in report["problems"]}) == example["expected"]["problems"]


@pytest.mark.parametrize("manifest", [MANIFEST, MANIFEST_2], ids=lambda m: m["format"])
def test_the_examples_cover_the_broken_kinds_a_verifier_must_catch(manifest: dict[str, Any]) -> None:
    files = {e["file"] for e in manifest["examples"]}
    assert {"valid.json", "flipped-byte.json", "wrong-chain.json", "revoked-certificate.json", "expired.json",
            "review-over-another.json"} <= files
    assert [e["file"] for e in manifest["examples"] if e["expected"]["ok"]] == ["valid.json", "expired-time-stamped.json"]


def test_each_folder_holds_its_own_format() -> None:
    assert MANIFEST["format"] == "hospital-rx-export/1" and MANIFEST_2["format"] == "hospital-rx-export/2"
    for folder, manifest in ((FOLDER, MANIFEST), (FOLDER_2, MANIFEST_2)):
        assert json.loads((folder / "valid.json").read_text(encoding="utf-8"))["format"] == manifest["format"]


def _conforms(value: Any, schema: dict[str, Any]) -> list[str]:
    """The subset of JSON Schema the export schema uses: type, const, required, properties, items, pattern."""
    import re

    kinds = {"string": str, "integer": int, "object": dict, "array": list, "boolean": bool, "null": type(None),
             "number": (int, float)}
    errors: list[str] = []
    if "const" in schema and value != schema["const"]:
        errors.append(f"{value!r} is not {schema['const']!r}")
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(isinstance(value, kinds[k]) for k in allowed):  # type: ignore[arg-type]
            errors.append(f"{value!r} is not {allowed}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{value[:40]!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        errors += [f"missing {name}" for name in schema.get("required", []) if name not in value]
        if schema.get("additionalProperties") is False:
            errors += [f"unexpected {name}" for name in value if name not in schema.get("properties", {})]
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                errors += [f"{name}: {e}" for e in _conforms(value[name], sub)]
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += [f"[{index}]: {e}" for e in _conforms(item, schema["items"])]
    return errors


def test_the_worked_example_conforms_to_the_published_schema() -> None:
    schema = json.loads((EXAMPLES / "hospital-rx-export-1.schema.json").read_text(encoding="utf-8"))
    valid = json.loads((FOLDER / "valid.json").read_text(encoding="utf-8"))
    assert _conforms(valid, schema) == []
    broken = {**valid, "prescription_jws": "not a jws"}
    del broken["review_jws"]
    assert len(_conforms(broken, schema)) == 2


def test_the_worked_example_of_version_2_conforms_to_its_published_schema() -> None:
    import jsonschema

    schema = json.loads((EXAMPLES / "hospital-rx-export-2.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    valid = json.loads((FOLDER_2 / "valid.json").read_text(encoding="utf-8"))
    jsonschema.validate(valid, schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    old = json.loads((FOLDER / "valid.json").read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):  # a version-1 export is not a version-2 one
        jsonschema.validate(old, schema)
