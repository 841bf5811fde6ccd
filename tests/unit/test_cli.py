"""The `hospital` command stays light: `hospital --help` imports no area, no framework and no canonical-JSON
parser; each area's group is imported when it is run, and the summary shown before that is the group's own."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import click

from hospital.cli import _AREA_COMMANDS

REPO = Path(__file__).resolve().parents[2]

# Frameworks and engines that only some commands need (and the canonical JSON module, whose import once took
# 7.5 s building a decoder): none of them is imported to print the help.
HEAVY = ["hospital.signing.canonical", "hospital.db", "hospital.app", "litestar", "sqlalchemy", "sqlmodel", "alembic",
         "uvicorn", "httpx", "cryptography", "PIL", "numpy", "face_recognition", "dlib", "aiortc", "av",
         "fhir", "connectors.supervision", "hospital.biometrics", "hospital.signing", "hospital.visits",
         "hospital.prescriptions", "hospital.security"]


def test_help_lists_every_command_and_imports_nothing_heavy() -> None:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "hospital", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=120, check=True)
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "hospital.cli" in imported  # the listing is read correctly
    loaded = sorted(m for m in imported if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert loaded == []
    for name in [*_AREA_COMMANDS, "serve", "demo", "migrate", "audit", "rules"]:
        assert f"\n  {name} " in result.stdout


def test_area_summaries_are_the_groups_own_help() -> None:
    for name, (module, attribute, summary) in _AREA_COMMANDS.items():
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        assert command.name == name
        assert command.get_short_help_str(limit=1000) == summary
