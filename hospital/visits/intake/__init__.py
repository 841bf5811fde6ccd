"""Intake: what a patient brings before booking: informed consent (PAT-02), prior diagnoses with their
documents (REV-01), and whether one can found an online revisit (REV-02, REV-03, REV-05).

Rooms: `rules` (pure intake rules: `evidence`, REV-01 and document sniffing; `eligibility`, PAT-02 and REV-02 …
REV-05), `tables` (the reviewed tables' values and lookups), `reference` (reading them and the consent texts
from `data/`), `models` (consent acceptances, prior diagnoses), `queries` (the patient's own, scoped),
`service` (accept consent, file a prior diagnosis), `views` (what the patient reads), `api`.
The lowest sub-area of visits: it imports neither booking nor the encounter.
"""
