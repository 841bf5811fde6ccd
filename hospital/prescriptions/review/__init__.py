"""The pharmacist's review (审方, RX-06): approve, or reject with reasons, signed as a second JWS.

    service.py    `review_prescription`, and `verified_document`: the doctor's signature checked against the
                  stored document, which dispensing checks again
    queries.py    the review queue
    api.py        GET /api/reviews/queue, POST /api/prescriptions/{id}/review

Its checks are in the area's status machine (`hospital.prescriptions.rules`: `check_reviewer`,
`check_reviewable`, `check_decision`), its table in `hospital.prescriptions.models` (the reason is in
`hospital.prescriptions`).
"""
