"""Visits: revisit-only intake, the visit lifecycle, records and uploaded documents (REV, REC-01, REC-02).

Pure rules: `rules` (intake: PAT-02, REV-01 … REV-05), `lifecycle` (states, termination, booking:
REV-04, REV-06, INS-02), `records` (EMR, retention: REC-01, REC-02), `documents` (upload sniffing),
`icd10` (WHO ICD-10 validation). Data: `data/` read by `tables` and `consent`.
"""
