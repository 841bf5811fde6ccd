"""Security incidents (SEC-02): no platform method takes them. A leak is reported by the hospital to the
authorities directly (卫生健康行政部门, 网信, 公安: hospital/security/incidents/data/authorities.csv), and each report is
recorded on the incident; the event stays in the outbox as the hospital's own record."""

from __future__ import annotations

from typing import Any

from connectors.supervision.mapping.base import EventView, MapContext, Mapper, NotReported

__all__ = ["MAPPERS"]


def security_incident(event: EventView[Any], ctx: MapContext) -> NotReported:
    return NotReported("no platform method takes security incidents; leaks are reported to the authorities "
                       "directly and recorded on the incident (SEC-02, docs/security.md)")


MAPPERS: dict[str, Mapper] = {
    "security.incident": security_incident,
}
