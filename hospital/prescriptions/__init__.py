"""Prescriptions (RX): six sub-areas, the formulary, the patient's safety context and one for each act on a
prescription, above the record they share.

    formulary/    the reviewed drug tables (data/), their loader and checks, `hospital formulary`, GET /api/formulary
    safety/       the patient's safety context (RX-04): coded allergies, pregnancy, impairments, weight; recorded by
                  the patient, confirmed by the doctor, versioned; why it lives here is in its __init__
    writing/      the doctor writes and signs (RX-01…RX-05, RX-07, REV-05): the prescription rules, the signed
                  document, revision, export
    review/       the pharmacist's review (RX-06)
    dispensing/   dispensing and delivery (RX-08)
    printing/     the printable 处方笺 of an approved prescription: the PDF sealed by the hospital (PAdES), with
                  both JWS attached and a QR code (issue 19); `hospital rx pdf-verify`

A sub-area imports only the sub-areas before it in that order, never one after it: writing's rules read the
formulary, review checks what writing signed, dispensing checks both signatures again (with review's
`verified_document`), printing prints what the export carries.

At the area's root, beneath all four and importing none of them, is what every act shares:

    models.py     the three tables: Prescription, PrescriptionReview, Dispensing
    rules.py      the prescription's status machine (pending_review → approved | rejected; dispensed → shipped →
                  delivered), pure; each sub-area's service calls the checks for its own act
    queries.py    the caller's scope, a prescription's view with its review and dispensing, the sealed-field helpers

Why there: the status machine and the tables belong to no single act. Writing uses the status machine although
review and dispensing are the ones that move it on: writing creates a prescription `pending_review`, revises only
a `rejected` one, and refuses one not signed by hand. Writing also reads the review and dispensing tables: the
export carries the pharmacist's signature, and the doctor's and the patient's lists show the review and the
delivery. So neither may live in review/ or dispensing/ (writing would import upward). In writing/ they could,
but review's and dispensing's tables and checks would then sit in another act's folder; at the root they are
beneath every act and belong to none. The machine stays one module, one diagram of states and moves, rather than
three pieces of it in three folders. What each act may change stays in its own service: writing inserts
prescription versions, review inserts the review and moves the status, dispensing marks the prescription
dispensed and inserts the dispensing and its steps. `tests/unit/prescriptions/test_rx_layout.py` checks the
order, and that no sub-area's api imports another's.

`api.py` sits above everything: it only lists the sub-areas' controllers for the app.
"""
