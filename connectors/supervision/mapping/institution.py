"""Institution events: the licence and its changes (INS-01, SUP-02) → uploadOrganIndicators."""

from __future__ import annotations

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper, NotReported

__all__ = ["MAPPERS"]

ORGAN = "uploadOrganIndicators"


def licence(event: EventView, ctx: MapContext) -> Mapped:
    p = event.payload
    number = str(event.require("licence_number"))
    record = {
        **ctx.organ(),
        "organName": p.get("internet_hospital_name") or ctx.organ_name,
        "secondName": p.get("institution_name", ""),
        # We hold one number for the 互联网医院 licence; the platform asks for it and its registration number.
        "internetPermit": number,
        "registerNumber": number,
        "legalRepresentative": p.get("legal_representative", ""),
        "address": p.get("address", ""),
        "authority": p.get("issuer", ""),
        "beginDate": p.get("valid_from", ""),
        "endDate": p.get("valid_until", ""),
        "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(ORGAN, [record])


def department(event: EventView, ctx: MapContext) -> NotReported:
    return NotReported("the platform takes departments inside staff and visit records (subjectCode), "
                       "not as records of their own")


def service_status(event: EventView, ctx: MapContext) -> NotReported:
    return NotReported("the gateway has no record of a service stop (QA-02): the hospital tells the health "
                       "commission itself; visits and prescriptions simply stop arriving")


MAPPERS: dict[str, Mapper] = {
    "institution.licence": licence,
    "institution.department": department,
    "institution.service_stopped": service_status,
    "institution.service_resumed": service_status,
}
