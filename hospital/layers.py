"""The house's floors, lowest first: the one place the layer order is written (docs/architecture.md draws it).

A module may import modules of its own floor and of the floors below, never above (checked by
tests/unit/test_layers.py, which imports every module and reads its imports). A module belongs to the floor of
the longest prefix below that names it. Imports under `if TYPE_CHECKING:` are annotations, not arrows.

Why this order: core knows no area; identity (who acts) is below everything that checks a role; the
institution (licence, departments) is below everything it licenses; patients and clinicians (staff, their
faces, their signing keys) are below the care they give; intake < booking < encounter is the patient's path;
prescriptions are written in an encounter, reviewed, then dispensed; quality, video, security and retention
read across the clinical areas; the public read model reads them all; connectors only read the outbox and
the directory; the conformance kit reads the rules of every area and drives the HTTP API; the entry points
(app, CLI, pages, wiring) assemble everything.
"""

from __future__ import annotations

__all__ = ["ENTRY_POINT_ROOMS", "LAYERS", "layer_of"]

LAYERS: tuple[tuple[str, ...], ...] = (
    # The event contracts stand with core: the outbox checks every payload against them, and they know no area.
    ("hospital", "hospital.core", "hospital.contracts", "hospital.config", "hospital.rules_index", "hospital.layers"),
    # Who acts, the app-scoped context and the request plumbing that turns a token into an actor.
    ("hospital.identity", "hospital.context", "hospital.db", "hospital.web.http", "hospital.web.headers"),
    ("hospital.institution",),
    ("hospital.patients",),
    ("hospital.biometrics",),
    ("hospital.staff",),
    ("hospital.signing",),
    ("hospital.visits.dates", "hospital.visits.icd10"),  # shared by the three sub-areas
    ("hospital.visits.intake",),
    ("hospital.visits.booking",),
    ("hospital.visits.encounter",),
    ("hospital.visits",),
    ("hospital.prescriptions.formulary",),
    # The patient's safety context, coded in the formulary's vocabulary; writing's rules read it.
    ("hospital.prescriptions.safety",),
    # The three tables, the status machine and the caller's scope, beneath the sub-areas that share them.
    ("hospital.prescriptions.models", "hospital.prescriptions.rules", "hospital.prescriptions.queries"),
    ("hospital.prescriptions.writing",),
    ("hospital.prescriptions.review",),
    ("hospital.prescriptions.dispensing",),
    ("hospital.prescriptions.printing",),  # prints what the export carries
    ("hospital.prescriptions",),
    ("hospital.quality",),
    ("hospital.video",),
    ("hospital.security.incidents",),
    ("hospital.security.detection",),
    ("hospital.security",),
    ("hospital.models",),  # every table, for Alembic and for the jobs that read across all of them
    ("hospital.retention",),
    ("hospital.backup",),  # dumps and restores every area's tables and blobs
    ("hospital.public",),
    # The conformance kit reads the rule registry and drives the HTTP API of a running hospital: above the areas,
    # beside the connectors (neither imports the other).
    ("connectors", "hospital.conformance"),
    ("hospital.web", "hospital.health", "hospital.demo", "hospital.wiring", "hospital.app", "hospital.media_worker",
     "hospital.cli", "hospital.__main__"),
)


# An area's command line is an entry point like hospital/cli.py: it builds a wired context (hospital.wiring).
ENTRY_POINT_ROOMS = ("cli", "__main__")


def layer_of(module: str) -> int | None:
    """The floor of `module` (0 is the lowest), by the longest prefix that names it; None if outside the house."""
    if module.rsplit(".", 1)[-1] in ENTRY_POINT_ROOMS:
        return len(LAYERS) - 1
    best: tuple[int, int] | None = None
    for floor, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            named = module == prefix or (prefix != "hospital" and module.startswith(prefix + "."))  # the package alone
            if named and (best is None or len(prefix) > best[0]):
                best = (len(prefix), floor)
    return None if best is None else best[1]
