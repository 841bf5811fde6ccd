"""bandit over the hospital and the connectors, in every test run (CI): zero findings. What is skipped or marked
`# nosec` is explained in pyproject.toml ([tool.bandit]). pip-audit is not run: it needs the advisory database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bandit_finds_nothing_unexplained() -> None:
    run = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", "hospital", "connectors", "-c", "pyproject.toml",
                          "-f", "json"], cwd=REPO, capture_output=True, text=True, timeout=300)
    report = json.loads(run.stdout)
    findings = [f"{r['test_id']} {r['filename']}:{r['line_number']} {r['issue_text']}" for r in report["results"]]
    print(f"bandit: {report['metrics']['_totals']['loc']} lines scanned, {len(findings)} findings")
    assert findings == [], "\n".join(findings)
    assert report["metrics"]["_totals"]["loc"] > 10_000  # it scanned the code, not an empty tree
