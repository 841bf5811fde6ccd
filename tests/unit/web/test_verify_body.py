"""`POST /api/rx/verify` reads `ExportBundleSubmitted` (issue 17): every published example bundle, of
hospital-rx-export/1 and /2, valid or broken, decodes as that body, and the verifier gets the bundle's own mapping
back, field for field, so the endpoint's report is the one `hospital rx verify` gives the file
(tests/conformance/test_examples.py records those verdicts)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import msgspec
import pytest

from hospital.contracts.prescription_views import ExportBundleSubmitted

EXAMPLES = Path(str(resources.files("hospital.conformance").joinpath("examples")))
BUNDLES = sorted(p for folder in ("hospital-rx-export-1", "hospital-rx-export-2")
                 for p in (EXAMPLES / folder).glob("*.json") if p.name != "manifest.json")


def test_both_formats_have_examples() -> None:
    formats = {json.loads(p.read_bytes()).get("format") for p in BUNDLES}
    assert {"hospital-rx-export/1", "hospital-rx-export/2"} <= formats


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_an_example_bundle_reaches_the_verifier_as_sent(bundle: Path) -> None:
    raw = bundle.read_bytes()
    submitted = msgspec.json.decode(raw, type=ExportBundleSubmitted)
    assert msgspec.to_builtins(submitted) == json.loads(raw)


def test_a_bundle_that_is_not_one_still_reaches_the_verifier() -> None:
    """The verifier, not the body's type, explains it (bundle_format): nothing is required."""
    assert msgspec.to_builtins(msgspec.json.decode(b'{"format": "something else"}', type=ExportBundleSubmitted)) == {
        "format": "something else"}
