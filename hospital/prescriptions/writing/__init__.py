"""Writing a prescription (RX-01…RX-05, RX-07, REV-05): the doctor writes and signs it, revises a rejected one,
and exports a reviewed one.

    rules/        the prescription rules, pure; `check_prescription` runs them all: `eligibility` (RX-07, RX-01,
                  RX-02, REV-05), `dosage` (RX-03), `safety` (RX-04)
    values.py     the draft the rules check, its items, the hospital's settings
    documents.py  the signed document: what the doctor's form sends and the payload the signature covers (RX-05)
    service/      one transaction each: `prescribing` (check, submit, revise), `countersignature` (REV-05),
                  `export`
    api.py        write and sign, revise, read (scoped to the caller), export

Its tables and the status machine are the area's, beneath every sub-area (`hospital.prescriptions.models`,
`hospital.prescriptions.rules`; the reason is in `hospital.prescriptions`).
"""
