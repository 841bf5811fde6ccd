"""The visit use cases, one import for callers: each is one function and one transaction in its own module.

- `intake`: consent (PAT-02), prior diagnoses with their documents (REV-01, REV-02)
- `booking`: schedules, booking and cancellation (REV-06, REV-05)
- `lifecycle_service`: accept, start, complete, terminate with referral (REV-04), the prescribing check (RX-01)
- `emr`: the outpatient record and its sign-off (REC-01)
- `chat`: text messages within a visit
- `views`: what each caller may read (SEC-01), through `queries`
- `purge`: retention (REC-02)
"""

from __future__ import annotations

from hospital.visits.booking import (
    BookingInput,
    GuardianInput,
    ScheduleInput,
    book_visit,
    cancel_visit,
    publish_schedule,
)
from hospital.visits.chat import list_messages, post_message
from hospital.visits.emr import EmrInput, read_medical_record, sign_off_medical_record, write_medical_record
from hospital.visits.encounter.service import (
    Termination,
    accept_visit,
    complete_visit,
    require_visit_open_for_prescribing,
    start_visit,
    terminate_visit,
)
from hospital.visits.intake.service import (
    ConsentView,
    PriorDiagnosisInput,
    accept_consent,
    current_consent,
    file_prior_diagnosis,
    require_current_consent,
)

__all__ = [
    "BookingInput",
    "ConsentView",
    "EmrInput",
    "GuardianInput",
    "PriorDiagnosisInput",
    "ScheduleInput",
    "Termination",
    "accept_consent",
    "accept_visit",
    "book_visit",
    "cancel_visit",
    "complete_visit",
    "current_consent",
    "file_prior_diagnosis",
    "list_messages",
    "post_message",
    "publish_schedule",
    "read_medical_record",
    "require_current_consent",
    "require_visit_open_for_prescribing",
    "sign_off_medical_record",
    "start_visit",
    "terminate_visit",
    "write_medical_record",
]
