"""The doctor's use cases on a prescription, each one transaction, by sub-area:

    prescribing       check a draft, sign it, revise a rejected one (RX-01…RX-05, RX-07)
    countersignature  a paediatric doctor reads what waits and countersigns a child's prescription (REV-05, PD 17)
    export            the self-contained bundle of a reviewed prescription, verified offline (RX-08)

A countersigned prescription goes to the pharmacist and the platform as a directly signed one does
(`prescribing.report_submitted`).
"""

from hospital.prescriptions.writing.service.countersignature import awaiting_countersignature, countersign_prescription
from hospital.prescriptions.writing.service.export import export_prescription
from hospital.prescriptions.writing.service.prescribing import (
    CHECK_VALID_FOR,
    check_draft,
    revise_prescription,
    submit_prescription,
)

__all__ = ["CHECK_VALID_FOR", "awaiting_countersignature", "check_draft", "countersign_prescription",
           "export_prescription", "revise_prescription", "submit_prescription"]
