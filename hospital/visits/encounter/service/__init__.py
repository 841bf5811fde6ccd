"""The encounter's use cases, each one transaction, by sub-area:

    lifecycle        accept, start, complete, terminate a visit (REV-04); the check before prescribing (RX-01)
    medical_record   write, sign off and read the outpatient record (REC-01)
    chat             the messages of the visit's patient and doctor

A doctor writes the record and messages only while the visit is accepted or in progress; the patient reads the
record once it is signed off. The EMR and the chat are sealed at rest (REC-03) and carry the date they may be
purged (REC-02): a chat 3 years from its visit's end, a record 15 years from sign-off.
"""
