"""What the patient brings to found a revisit (REV-01): the prior diagnosis, who made it and when, the diagnosing
institution's 医疗机构登记号, and what an uploaded document really is, judged from its bytes (`sniff_document`).
Pure, plain values in, `RuleViolation` out. Whether the diagnosis may found this visit is `rules.eligibility`'s.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

from hospital.core.errors import PayloadTooLarge, RuleViolation, UnsupportedMediaType
from hospital.core.rule_registry import rule

__all__ = [
    "EARLIEST_DIAGNOSIS",
    "MAX_DOCUMENT_BYTES",
    "ONLINE_INSTITUTION_MARKERS",
    "DocumentKind",
    "DocumentType",
    "InstitutionKind",
    "PriorDiagnosis",
    "check_institution_registration",
    "check_prior_diagnosis_on_file",
    "check_prior_diagnosis_withdrawable",
    "organisation_check_character",
    "sniff_document",
]

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a multi-page scanned discharge summary fits; a video does not
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TAIL = 1024  # readers accept trailing bytes after %%EOF / IEND within this distance of the end


class DocumentType(enum.StrEnum):
    """Records that prove a diagnosis made at a physical institution (PD 15)."""

    OUTPATIENT_RECORD = "outpatient_record"  # 门诊病历
    INPATIENT_RECORD = "inpatient_record"  # 住院病历
    DISCHARGE_SUMMARY = "discharge_summary"  # 出院小结
    DIAGNOSIS_CERTIFICATE = "diagnosis_certificate"  # 诊断证明


class InstitutionKind(enum.StrEnum):
    PHYSICAL = "physical"  # 实体医疗机构
    INTERNET_HOSPITAL = "internet_hospital"  # an online diagnosis cannot found a revisit (PD 6)


@dataclass(frozen=True, slots=True)
class PriorDiagnosis:
    """What the patient brings (REV-01): the diagnosis, who made it and when, and the kept document."""

    icd10_code: str
    diagnosis_name: str
    document_type: str
    institution_name: str
    diagnosed_on: date | None
    document_sha256: str | None
    institution_kind: InstitutionKind = InstitutionKind.PHYSICAL
    institution_registration_number: str = ""  # 医疗机构登记号, required when filed (check_institution_registration)



# Names that say the institution is itself online: its diagnosis cannot found a revisit (PD 6), whatever the
# patient ticks as the kind.
ONLINE_INSTITUTION_MARKERS = ("互联网医院", "网络医院", "互联网诊疗", "云医院", "在线医院", "网上医院")
# 医疗机构登记号 (医疗机构执业许可证): 9-character 组织机构代码 (GB 11714, with its check character), 6-digit
# 行政区划代码 (GB/T 2260), 2-digit 经济类型代码, 4-character 卫生机构类别代码 (WS 218: letter + 3 digits,
# A100 综合医院), 1-digit 分类管理代码 (1 非营利性, 2 营利性, 9 其他).
_REGISTRATION = re.compile(r"^([0-9A-Z]{8})([0-9X])(\d{6})(\d{2})([A-Z]\d{3})([129])$")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
EARLIEST_DIAGNOSIS = date(1900, 1, 1)


def organisation_check_character(first_eight: str) -> str:
    """GB 11714-1997: the 9th character of a 组织机构代码."""
    total = sum(int(ch, 36) * w for ch, w in zip(first_eight, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


@rule("REV-01", "The diagnosing institution is named with a well-formed 医疗机构登记号", source="PD 6, 15")
def check_institution_registration(number: str) -> str:
    """The normalised 登记号, or a refusal naming what is wrong with it."""
    normalised = number.strip().upper().replace(" ", "").replace("-", "")
    found = _REGISTRATION.match(normalised)
    if found is None:
        raise RuleViolation("REV-01", f"医疗机构登记号 {number!r} is not 22 characters of the licence format "
                                      "(组织机构代码 9 + 行政区划 6 + 经济类型 2 + 机构类别 4 + 分类管理 1)",
                            field="institution_registration_number")
    if organisation_check_character(found.group(1)) != found.group(2):
        raise RuleViolation("REV-01", f"医疗机构登记号 {number!r}: the 组织机构代码 check character is wrong",
                            field="institution_registration_number")
    return normalised


@rule("REV-01", "A prior diagnosis from a physical institution is on file", source="PD 6, 15")
def check_prior_diagnosis_on_file(prior: PriorDiagnosis | None, *, today: date,
                                  birth_date: date | None = None) -> PriorDiagnosis:
    """`prior` when complete; refuse a first visit: no prior diagnosis, or one without its document, type,
    diagnosis, physical institution (by kind and by name) or a date between the patient's birth and today."""
    if prior is None:
        raise RuleViolation("REV-01", "no prior diagnosis: first visits (首诊) are not served online")
    allowed = ", ".join(t.value for t in DocumentType)
    if prior.document_type not in set(DocumentType):
        raise RuleViolation("REV-01", f"document type {prior.document_type!r} is not one of: {allowed}")
    if not prior.diagnosis_name.strip():
        raise RuleViolation("REV-01", "the prior diagnosis has no diagnosis")
    if not prior.institution_name.strip():
        raise RuleViolation("REV-01", "the prior diagnosis does not name the diagnosing institution")
    if prior.institution_kind is not InstitutionKind.PHYSICAL:
        raise RuleViolation("REV-01", "the prior diagnosis must be made at a physical institution, not online")
    online = next((m for m in ONLINE_INSTITUTION_MARKERS if m in prior.institution_name.replace(" ", "")), None)
    if online is not None:
        raise RuleViolation("REV-01", f"{prior.institution_name} is by its name ({online}) an online institution: "
                                      "its diagnosis cannot found an online revisit", field="institution_name")
    if prior.diagnosed_on is None:
        raise RuleViolation("REV-01", "the prior diagnosis has no date")
    if prior.diagnosed_on > today:
        raise RuleViolation("REV-01", f"the diagnosis date {prior.diagnosed_on.isoformat()} is in the future")
    earliest = max(birth_date or EARLIEST_DIAGNOSIS, EARLIEST_DIAGNOSIS)
    if prior.diagnosed_on < earliest:
        raise RuleViolation("REV-01", f"the diagnosis date {prior.diagnosed_on.isoformat()} is before "
                                      f"{'the patient was born' if birth_date else earliest.isoformat()}",
                            field="diagnosed_on")
    if not prior.document_sha256 or not _SHA256.match(prior.document_sha256):
        raise RuleViolation("REV-01", "the prior-diagnosis document has not been kept (no stored document)")
    return prior


@rule("REV-01", "A prior diagnosis is withdrawn only while no visit was booked on it, and is not booked once withdrawn",
      source="PD 15; REC-02")
def check_prior_diagnosis_withdrawable(*, visits_booked_on_it: int, withdrawn: bool) -> None:
    """A diagnosis a visit was booked on founds that visit's record (kept 15 years, REC-02): it stays."""
    if withdrawn:
        raise RuleViolation("REV-01", "this prior diagnosis has already been withdrawn")
    if visits_booked_on_it > 0:
        raise RuleViolation("REV-01", f"{visits_booked_on_it} visit(s) were booked on this prior diagnosis, whose "
                                      "records keep it: it can no longer be withdrawn", visits=visits_booked_on_it)


# What an uploaded prior-diagnosis document really is (REV-01), judged from its bytes.


class DocumentKind(enum.StrEnum):
    """Accepted upload types, by media type."""

    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"


def _detect(data: bytes) -> DocumentKind | None:
    if data.startswith(b"%PDF-"):
        # A PDF ends with %%EOF; without it the file is truncated or only pretends to be a PDF.
        return DocumentKind.PDF if b"%%EOF" in data[-_TAIL:] else None
    if data.startswith(b"\xff\xd8\xff"):
        # Phones append data after the JPEG end marker (motion photos), so only the start is checked.
        return DocumentKind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return DocumentKind.PNG if b"IEND" in data[-_TAIL:] else None
    return None


def sniff_document(data: bytes, declared_type: DocumentKind | str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> DocumentKind:
    """The kind of `data`, which must be what `declared_type` says; PayloadTooLarge over `max_bytes`,
    UnsupportedMediaType for another type, an empty file or content that does not match."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the document is {len(data)} bytes; the limit is {max_bytes}", limit=max_bytes)
    declared_text = declared_type.split(";")[0].strip().lower()
    try:
        declared = DocumentKind(declared_text)
    except ValueError:
        accepted = ", ".join(k.value for k in DocumentKind)
        raise UnsupportedMediaType(f"{declared_text!r} is not accepted; send one of: {accepted}") from None
    if not data:
        raise UnsupportedMediaType("the document is empty")
    found = _detect(data)
    if found is not declared:
        what = f"a {found.name} file" if found else "not a complete PDF, JPEG or PNG file"
        raise UnsupportedMediaType(
            f"declared {declared.value}, but the content is {what}",
            declared=declared.value,
            detected=found.value if found else None,
        )
    return found
