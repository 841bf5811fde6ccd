"""Encounter: the visit after booking: the doctor accepts it having confirmed the revisit, starts, completes
or terminates it with a referral (REV-04); the outpatient record (REC-01) and chat; and the check the
prescriptions area calls before prescribing (RX-01).

Rooms: `rules` (pure: the prescribing window, revisit confirmation, termination, the record's fields),
`models` (chat messages, medical records), `queries`, `service`, `views` (the whole visit), `payloads` (the
revisit record with the signed diagnosis, the signed EMR), `api` (the `/api/visits` resource). The top
sub-area of visits: it may import booking and intake, and neither imports it.
"""
