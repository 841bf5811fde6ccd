"""docs/conformance.md is what `hospital conformance docs` renders from the matrix and the scenario suite."""

from __future__ import annotations

from pathlib import Path

from hospital.conformance.docs import render_markdown
from hospital.conformance.matrix import build_matrix
from hospital.conformance.scenarios import load_scenarios

REPO = Path(__file__).resolve().parents[2]


def test_the_conformance_page_is_current(shared_dir: Path) -> None:
    rendered = render_markdown(build_matrix(shared_dir), load_scenarios())
    current = (REPO / "docs" / "conformance.md").read_text(encoding="utf-8")
    assert current == rendered, "docs/conformance.md is stale: run `hospital conformance docs --write docs/conformance.md`"
    assert "| RX-07 | partly enforced |" in current and "| SUP-01 | enforced |" in current
