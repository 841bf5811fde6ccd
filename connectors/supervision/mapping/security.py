"""Security incidents (SEC-02) as risk warnings on the platform (SUP-04): each step of an incident is a new version
of one pushMedicalDispute record, businessType 3. A leak is also reported by the hospital to the authorities
directly (卫生健康行政部门, 网信, 公安: hospital/security/incidents/data/authorities.csv), as the incident records.

What the platform gets names no one: the kind, severity, leak and how many people are affected. The narrative
(summary, notes, review) may name people and stays sealed in the hospital's outbox (REC-03)."""

from __future__ import annotations

from connectors.supervision.mapping.base import EventView, MapContext, Mapped, Mapper
from connectors.supervision.mapping.quality import DISPUTE_METHOD, RISK_WARNING
from hospital.contracts.security import IncidentChanged

__all__ = ["MAPPERS", "SECURITY_OFFICE"]

SECURITY_OFFICE = "信息安全管理部门"


def security_incident(event: EventView[IncidentChanged], ctx: MapContext) -> Mapped:
    p = event.data
    reported = "、".join(r.authority for r in p.reported_to) or "尚未报告"
    record = {
        **ctx.organ(), "eventID": f"security_incident:{p.incident_id}", "businessType": RISK_WARNING,
        "warningType": "security_incident", "eventStatus": f"{p.status}:{p.change}",
        "eventDescription": (f"网络安全事件（{p.kind}），级别 {p.severity}，数据泄露 {p.leak}，"
                             f"涉及个人信息 {'是' if p.personal_information else '否'}，影响 {p.affected_subjects} 人；"
                             f"已报告：{reported}"),
        "eventDate": ctx.local_time(p.detected_at), "eventReason": p.kind, "takeSteps": p.change,
        "damageDegree": p.severity, "reportPerson": SECURITY_OFFICE,
        "reportDate": ctx.local_time(event.created_at), "updateTime": ctx.local_time(event.created_at),
    }
    return Mapped(DISPUTE_METHOD, [record])


MAPPERS: dict[str, Mapper] = {
    "security.incident": security_incident,
}
