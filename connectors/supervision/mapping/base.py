"""What a mapper sees and returns (docs/connector.md, "The mapping registry").

A mapper is a pure function `(EventView[P], MapContext) -> Mapped | NotReported`: the outbox event in, its
payload already the event type's contract Struct (`event.data`, hospital/contracts), the platform's method and
records out. People named by the payload (clinicians, patients) are looked up in the `MapContext`'s directory,
which the dispatcher fills before mapping, so a mapper does no I/O. A mapper that cannot build its records raises
`MappingFailed` (or any KeyError/ValueError/TypeError, read the same way).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from hospital.contracts import EVENT_PAYLOADS, ContractViolation, Payload, conform
from hospital.core.errors import InvalidInput
from hospital.core.outbox import SEALED_CONTEXT  # the cipher context of a payload's `sealed` part

__all__ = [
    "EARLIER",
    "SEALED_CONTEXT",
    "After",
    "EventView",
    "MapContext",
    "Mapped",
    "Mapper",
    "MappingFailed",
    "NotReported",
    "PatientRef",
    "References",
    "Requires",
    "StaffRef",
    "UnmappedEvent",
    "collect_mappers",
    "dispatch",
    "event_view",
    "not_reported",
]

P = TypeVar("P", bound=Payload)

# A payload key naming a subject → the earlier event of that subject whose payload mappers may read.
# (`dispensing.delivery_updated` does not name the pharmacist who dispensed; `dispensing.dispensed` does.)
EARLIER = {"prescription_id": "prescription.submitted", "complaint_id": "complaint.filed",
           "dispensing_id": "dispensing.dispensed"}


class MappingFailed(InvalidInput):
    """The event cannot be turned into the platform's records as it stands (dead-lettered with this reason)."""

    title = "Event cannot be mapped"


@dataclass(frozen=True, slots=True)
class EventView(Generic[P]):
    """An outbox event as mappers read it: `data` is its payload as the event type's contract Struct, the
    sealed part opened and merged in (hospital/contracts)."""

    seq: int
    event_type: str
    subject_type: str
    subject_id: str
    version: int
    created_at: datetime
    data: P


def event_view(seq: int, event_type: str, subject_type: str, subject_id: str, version: int, created_at: datetime,
               payload: Payload | Mapping[str, Any]) -> EventView[Payload] | UnmappedEvent:
    """The event with its (opened) payload converted into its contract Struct, once. An event type no contract
    names is unmapped (parked until a connector that knows it routes it); a payload that breaks its contract (an
    event older than a contract change) cannot be mapped."""
    if event_type not in EVENT_PAYLOADS:
        return UnmappedEvent(event_type)
    try:
        data: Payload = conform(event_type, payload)
    except ContractViolation as exc:
        raise MappingFailed(exc.detail) from exc
    return EventView(seq, event_type, subject_type, subject_id, version, created_at, data)


@dataclass(frozen=True, slots=True)
class After:
    """Send only when no earlier event of this subject is still waiting to be sent (ordering)."""

    subject_type: str
    subject_id: str


@dataclass(frozen=True, slots=True)
class Requires:
    """Send only once a record of `method` with this business ID has been delivered (a prescription after
    its revisit record, a rating after the record it rates), however late that record is produced."""

    method: str
    business_id: str


@dataclass(frozen=True, slots=True)
class Mapped:
    """Report `records` with `method` (one request; the platform takes or refuses them whole)."""

    method: str
    records: list[dict[str, Any]]
    after: tuple[After, ...] = ()
    requires: tuple[Requires, ...] = ()
    day: date | None = None  # the business day (T+1 batch) when it is not the day the event was committed


@dataclass(frozen=True, slots=True)
class NotReported:
    """This platform takes no record for the event; it is marked skipped with the reason."""

    reason: str


@dataclass(frozen=True, slots=True)
class UnmappedEvent:
    """No mapper exists for this event type yet; the event is parked and routed again when one is added."""

    event_type: str


Mapper = Callable[[EventView[Any], "MapContext"], Mapped | NotReported]


def not_reported(reason: str) -> Mapper:
    """A mapper for an event this platform takes no record of, saying why."""

    def mapper(event: EventView[Any], ctx: MapContext) -> NotReported:
        return NotReported(reason)

    return mapper


@dataclass(frozen=True, slots=True)
class StaffRef:
    staff_id: str
    user_id: str
    name: str
    id_number: str
    kind: str  # doctor | pharmacist | nurse
    title: str = ""
    departments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PatientRef:
    patient_id: str
    user_id: str
    name: str
    id_number: str
    birth_date: date
    sex: str  # male | female


class References(Protocol):
    """Lookups a mapper may need; the dispatcher's `Directory` implements it from the database."""

    def staff(self, *, user_id: str | None = None, staff_id: str | None = None) -> StaffRef | None: ...

    def patient(self, *, patient_id: str | None = None, user_id: str | None = None) -> PatientRef | None: ...

    def department_name(self, code: str) -> str | None: ...

    def earlier(self, event_type: str, subject_id: str) -> Payload | None: ...

    def open_sealed(self, sealed: str) -> str: ...


@dataclass(frozen=True, slots=True)
class MapContext:
    """The institution's identity on the platform, its calendar, and the directory of people."""

    organ_id: str
    organ_name: str
    tz: ZoneInfo
    refs: References
    extra: dict[str, Any] = field(default_factory=dict)
    prescription_at_signing: bool = True  # the province's rhythm (data/provinces.csv): else once approved
    face_uploads: bool = True  # our non-standard uploadFaceVerification (HOSPITAL_SUPERVISION_FACE_UPLOADS)
    department_uploads: bool = False  # our non-standard uploadDepartmentInfo (HOSPITAL_SUPERVISION_DEPARTMENT_UPLOADS)

    def organ(self) -> dict[str, Any]:
        return {"organID": self.organ_id, "organName": self.organ_name}

    def local_time(self, value: Any) -> str:
        """`yyyy-MM-dd HH:mm:ss` in the platform's time zone, from an aware datetime or ISO text."""
        moment = _datetime(value)
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

    def moment(self, value: Any) -> datetime | None:
        """An aware datetime from a datetime or ISO text (None when empty)."""
        return _datetime(value)

    def local_date(self, value: Any) -> str:
        moment = _datetime(value)
        if moment is not None:
            return moment.astimezone(self.tz).strftime("%Y-%m-%d")
        return str(value or "")[:10]

    def staff(self, *, user_id: Any = None, staff_id: Any = None) -> StaffRef:
        found = self.refs.staff(user_id=_text(user_id), staff_id=_text(staff_id))
        if found is None:
            raise MappingFailed(f"no staff member with user_id={user_id} staff_id={staff_id}")
        return found

    def patient(self, *, patient_id: Any = None, user_id: Any = None) -> PatientRef:
        found = self.refs.patient(patient_id=_text(patient_id), user_id=_text(user_id))
        if found is None:
            raise MappingFailed(f"no patient with patient_id={patient_id} user_id={user_id}")
        return found

    def department_name(self, code: str) -> str:
        return self.refs.department_name(code) or ""

    def earlier(self, event_type: str, subject_id: Any, kind: type[P]) -> P:
        """The payload of the subject's earlier event (`prescription.submitted` carries the signed document that
        `prescription.approved` reports), as its contract Struct `kind`; the directory loads those named in
        `EARLIER` before mapping."""
        found = self.refs.earlier(event_type, str(subject_id))
        if found is None:
            raise MappingFailed(f"no {event_type} event for {subject_id}")
        if not isinstance(found, kind):
            raise MappingFailed(f"the {event_type} event of {subject_id} is a {type(found).__name__}, not {kind.__name__}")
        return found


def collect_mappers(package: str, families: Iterable[str], attribute: str) -> dict[str, Mapper]:
    """Every mapper of the family modules of `package` by event type (`module.<attribute>`); two families
    claiming one type is a programming error. Serves the gateway registry and the FHIR one alike."""
    found: dict[str, Mapper] = {}
    for family in families:
        module = importlib.import_module(f"{package}.{family}")
        for event_type, mapper in getattr(module, attribute).items():
            if event_type in found:
                raise RuntimeError(f"event type {event_type} is mapped twice ({package}.{family})")
            found[event_type] = mapper
    return found


def dispatch(mappers: Mapping[str, Mapper], event: EventView[Any], ctx: MapContext, *, label: str = ""
             ) -> Mapped | NotReported | UnmappedEvent:
    """`event` through its mapper: an UnmappedEvent when there is none; a payload the mapper cannot read (a
    missing key, a bad value) is a MappingFailed naming the event type (and `label`, e.g. FHIR)."""
    mapper = mappers.get(event.event_type)
    if mapper is None:
        return UnmappedEvent(event.event_type)
    try:
        return mapper(event, ctx)
    except MappingFailed:
        raise
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise MappingFailed(f"{event.event_type}{label}: {type(exc).__name__}: {exc}") from exc


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        raise MappingFailed(f"time {value!r} has no zone; payload times are ISO 8601 with an offset (UTC)")
    return moment
