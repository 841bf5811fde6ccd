"""The requirements catalogue (../shared/REQUIREMENTS.md): every ID with its clause and source."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REPO", "Requirement", "read_requirements", "shared_dir"]

REPO = Path(__file__).resolve().parents[2]
_ROW = re.compile(r"^\| ([A-Z]+-\d+) \| (.+?) \| (.+?) \|\s*$", re.M)


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    clause: str
    source: str


def shared_dir() -> Path:
    """HOSPITAL_SHARED_DIR, else ../shared beside the clone (as the tests and the demo find it)."""
    configured = os.environ.get("HOSPITAL_SHARED_DIR")
    return Path(configured) if configured else REPO.parent / "shared"


def read_requirements(shared: Path | None = None) -> list[Requirement]:
    """Every row of REQUIREMENTS.md's tables, in the catalogue's order."""
    text = ((shared or shared_dir()) / "REQUIREMENTS.md").read_text(encoding="utf-8")
    return [Requirement(m[1], m[2].strip(), m[3].strip()) for m in _ROW.finditer(text)]
