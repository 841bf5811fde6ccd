"""Visits: revisit-only intake, booking and the consultation itself (PAT-02, REV, REC-01), as three sub-areas
with the same rooms (`rules`, `models`, `queries`, `service`, `views`, `api` …):

- `intake`: informed consent (PAT-02), prior diagnoses with their documents (REV-01), eligibility (REV-02,
  REV-03, REV-05), and the reviewed tables and consent texts in `intake/data/`;
- `booking`: schedules, booking and cancelling (REV-06), the doctor's queue;
- `encounter`: accepting, starting, completing and terminating a visit (REV-04), the outpatient record
  (REC-01), chat, and the check the prescriptions area calls before prescribing (RX-01).

The order is intake < booking < encounter: a sub-area imports only those before it. The `Visit` table and the
whole visit state machine (every state, every allowed move, `move_visit`) live in booking, because booking
creates a visit and cancels it and must not import the encounter, while the encounter, above it, drives the
other moves through the same machine. What needs the whole visit, its record included, is the encounter's:
the `/api/visits` resource and the revisit record reported when a visit ends; a cancellation, a booking
use case, is handed the encounter's revisit-record reader by its caller.

Shared below all three: `dates` (calendar arithmetic) and `icd10` (WHO ICD-10 codes). `api.VISIT_ROUTES`
gathers the controllers for the app. Retention (REC-02) is a job over every area: `hospital.retention`.
"""
