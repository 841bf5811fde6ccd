"""The face use cases, by sub-area:

    verification   enrolment (one face, one clinician), verification and the liveness challenge (FACE-01 … FACE-04)
    consent        the clinician's own biometric consent: given, withdrawn, required (FACE-01)
    sessions       practice sessions: still open, ended (FACE-02)
"""
