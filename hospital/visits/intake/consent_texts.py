"""The versioned informed-consent texts (PAT-02, PD 14), reviewed reference material in `data/consent/`.

Each version is `consent_v<N>.<lang>.md`; the highest N with a Chinese text is current. The Chinese text is
the one accepted; `.en.md` renders it. A text carries `{{placeholders}}` for the hospital's own details,
filled by `render_consent`, which refuses to leave one empty.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hospital.core.errors import InvalidInput, NotFound
from hospital.visits.intake.reference import DATA_DIR

__all__ = ["CONSENT_DIR", "CONSENT_PLACEHOLDERS", "ConsentText", "consent_version_number", "current_consent_version",
           "load_consent", "render_consent"]

CONSENT_DIR = DATA_DIR / "consent"
# PD 14: the hospital and the doctors' information (doctor_information: every doctor practising online)
CONSENT_PLACEHOLDERS = ("hospital_name", "licence_number", "complaint_phone", "doctor_information")
_FILE = re.compile(r"^consent_(v(\d+))\.(zh|en)\.md$")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class ConsentText:
    """One version of the consent in one language; `sha256` of the template identifies the exact text."""

    version: str
    language: str
    template: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()


def consent_version_number(version: str) -> int:
    """ "v3" → 3; InvalidInput for anything else."""
    match = re.fullmatch(r"v(\d+)", version)
    if not match:
        raise InvalidInput(f"consent version {version!r} is not of the form v<N>")
    return int(match.group(1))


def _versions(directory: Path, language: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in directory.glob("consent_v*.md"):
        match = _FILE.match(path.name)
        if match and match.group(3) == language:
            found[match.group(1)] = path
    return found


def current_consent_version(directory: Path = CONSENT_DIR) -> str:
    """The newest version that has a Chinese text."""
    versions = _versions(directory, "zh")
    if not versions:
        raise NotFound(f"no consent text in {directory}")
    return max(versions, key=consent_version_number)


def load_consent(version: str | None = None, language: str = "zh", directory: Path = CONSENT_DIR) -> ConsentText:
    """The consent template of `version` (default: current) in `language` ("zh" or "en")."""
    version = version or current_consent_version(directory)
    path = _versions(directory, language).get(version)
    if path is None:
        raise NotFound(f"no consent text {version} in language {language!r}")
    return ConsentText(version, language, path.read_text(encoding="utf-8"))


def render_consent(text: ConsentText, values: Mapping[str, str]) -> str:
    """The text with every placeholder filled; InvalidInput naming any placeholder left without a value."""
    wanted = set(_PLACEHOLDER.findall(text.template))
    missing = sorted(name for name in wanted if not values.get(name, "").strip())
    if missing:
        raise InvalidInput(f"consent {text.version} needs values for {', '.join(missing)}", missing=missing)
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)].strip(), text.template)
