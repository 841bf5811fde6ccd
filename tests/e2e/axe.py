"""axe-core in the browser suite (issue 14): every page state a browser test visits is checked, in both languages
and at phone and desktop sizes, and a serious or critical violation fails the test that met it.

`audit(page, where)` injects the vendored `vendor/axe.min.js` (see vendor/README.md) and runs it on the page as
it stands; every screenshot (`conftest.Screens`) is such a state, and `test_accessibility.py` visits every page.
Each audit appends one line to `test-artifacts/axe/states-<run>.jsonl`, the run being the pytest process that
prints the summary (an xdist worker's parent), so the counts of a run split over workers are summed and printed at
its end (`conftest.pytest_terminal_summary`).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
_RUN = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
STATES = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe" / f"states-{_RUN}.jsonl"
BLOCKING = ("serious", "critical")
# WCAG 2.1 A and AA plus axe's best practices (heading order, regions): what issue 14 asks to be clean.
_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
            "resultTypes": ["violations"]}


@dataclass
class AxeTally:
    """What the session's audits found: states checked and violations by impact."""

    states: int = 0
    by_impact: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        impacts = ", ".join(f"{impact} {self.by_impact.get(impact, 0)}" for impact in
                            ("critical", "serious", "moderate", "minor"))
        return f"axe-core: {self.states} page states checked; violations: {impacts}"


def tally() -> AxeTally:
    """The counts of every audit this run recorded (all workers)."""
    total = AxeTally()
    if not STATES.exists():
        return total
    for line in STATES.read_text(encoding="utf-8").splitlines():
        state = json.loads(line)
        total.states += 1
        for violation in state["violations"]:
            total.by_impact[violation["impact"]] += 1
            total.rules[f"{violation['id']} ({violation['impact']})"] += 1
    return total




def _source() -> str:
    global _SOURCE
    if _SOURCE is None:
        _SOURCE = AXE.read_text(encoding="utf-8")
    return _SOURCE


_SOURCE: str | None = None


def audit(page: Page, where: str) -> list[dict[str, Any]]:
    """Run axe on `page` now; returns the violations, and counts them in the session's tally."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated by the DevTools protocol, which the pages' CSP (script-src 'self', SEC-03) does not govern: a
        # <script> tag would be refused, and the test must not loosen the policy it runs under.
        page.evaluate(_source() + "\n;void 0")
    found: list[dict[str, Any]] = page.evaluate("options => axe.run(document, options).then(r => r.violations)",
                                                _OPTIONS)
    STATES.parent.mkdir(parents=True, exist_ok=True)
    with STATES.open("a", encoding="utf-8") as out:  # one short line per state: appends from workers do not mix
        out.write(json.dumps({"where": where, "url": page.url, "violations": [
            {"id": v["id"], "impact": v.get("impact") or "minor", "nodes": len(v["nodes"])} for v in found]},
            ensure_ascii=False) + "\n")
    return found


def blocking(found: list[dict[str, Any]]) -> list[str]:
    """The serious and critical violations, one readable line each (rule, impact, first targets)."""
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in found if v.get("impact") in BLOCKING]


def assert_accessible(page: Page, where: str) -> None:
    problems = blocking(audit(page, where))
    assert problems == [], f"axe-core on {where} ({page.url}):\n" + "\n".join(problems)
