"""The patient's safety context (RX-04): what the prescription rules must know about the patient.

    values.py   the context as plain values: coded allergies (or "no known allergies"), pregnancy, lactation,
                renal and hepatic impairment (a category or an eGFR), weight and height
    rules.py    what a valid context is, checked against the formulary's vocabulary (pure)
    models.py   the versioned, sealed record: one row per version, never changed
    service.py  the patient records it (at intake), the doctor confirms or corrects it in the visit; every
                version and every read audited; what the prescription rules take from it
    api.py      GET/PUT /api/me/safety-context, GET/POST /api/visits/{id}/safety-context

Why here, beneath writing and above the formulary, rather than in visits/ or patients/: the context is coded
in the formulary's vocabulary (its allergen groups and substances, the impairment categories the formulary's
contraindications name) and the prescription rules are its reader; visits and patients sit on floors below the
prescriptions area, so a context there could not check a code against the formulary without importing upward.
Here it reads visits (whose visit, whose doctor) and patients (whose record) downward, and writing reads it.
"""
