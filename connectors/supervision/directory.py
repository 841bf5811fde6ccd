"""The people and departments events name, read from the hospital's tables for the mappers (`References`).

Payloads name people by id (keys ending in `user_id`, `staff_id`, `patient_id`); the platform wants their
resident ID numbers, which are sealed at rest, so the connector opens them here with the field key and keeps
them in memory for `ttl_s`. `prepare()` loads what a batch of payloads names before the mappers run.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.supervision.mapping.base import EARLIER, SEALED_CONTEXT, MappingFailed, PatientRef, StaffRef
from hospital.contracts import ContractViolation, Payload, conform
from hospital.core.crypto import FieldCipher
from hospital.core.outbox import OutboxEvent
from hospital.institution.models import Department
from hospital.patients.models import Patient
from hospital.staff.models import StaffMember

__all__ = ["Directory", "opened_payload"]


def _ids_by(payloads: Iterable[Mapping[str, Any]], suffixes: tuple[str, ...]) -> dict[str, set[uuid.UUID]]:
    """The ids under keys ending in each suffix, in one pass over the payloads (a round maps hundreds of them)."""
    found: dict[str, set[uuid.UUID]] = {suffix: set() for suffix in suffixes}
    for payload in payloads:
        for key, value in payload.items():
            if not value or not isinstance(key, str):
                continue
            for suffix in suffixes:
                if key.endswith(suffix):
                    with contextlib.suppress(ValueError):
                        found[suffix].add(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    return found


def _with_nested(payloads: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The payloads and the objects nested one level in them (a prescription's `patient`, `doctor`)."""
    nested: list[Mapping[str, Any]] = []
    for payload in payloads:
        for value in payload.values():
            if isinstance(value, Mapping):
                nested.append(value)
                nested += [v for v in value.values() if isinstance(v, Mapping)]
    return payloads + nested


class Directory:
    """Implements `mapping.References` from the database."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], cipher: FieldCipher, *, ttl_s: float = 300.0) -> None:
        self._factory = factory
        self._cipher = cipher
        self._ttl_s = ttl_s
        self._loaded_at = time.monotonic()
        self._staff_by_user: dict[str, StaffRef] = {}
        self._staff_by_id: dict[str, StaffRef] = {}
        self._patient_by_id: dict[str, PatientRef] = {}
        self._patient_by_user: dict[str, PatientRef] = {}
        self._departments: dict[str, str] | None = None
        # Events never change, and another lane may be mapping with them: kept, never refreshed. An earlier
        # event whose payload breaks its contract is kept with the reason, for the mapper that asks for it.
        self._earlier: dict[tuple[str, str], Payload] = {}
        self._earlier_refused: dict[tuple[str, str], str] = {}
        # Ids looked up and not found (until the next refresh): an event is committed with the row it names, so
        # a miss stays a miss; without this every round would ask the database again for the same absent ids.
        self._missing: set[uuid.UUID] = set()
        self._stale = False

    def forget(self) -> None:
        """Read the hospital's current records at the next `prepare` (what is cached stays usable meanwhile:
        another lane may be mapping with it)."""
        self._stale = True

    async def prepare(self, payloads: Iterable[Mapping[str, Any]]) -> None:
        """Load every person the payloads name that is not cached yet (all of them, and the departments, when
        the cache is stale or older than `ttl_s`)."""
        payloads = list(payloads)
        refresh = self._stale or self._departments is None or time.monotonic() - self._loaded_at > self._ttl_s
        if refresh:
            self._stale, self._loaded_at = False, time.monotonic()
            self._missing = set()
        named = _ids_by(payloads, tuple(EARLIER))
        earlier = {(event_type, str(i)) for key, event_type in EARLIER.items() for i in named[key]}
        earlier -= set(self._earlier)
        if earlier:  # first: the people they name are loaded with the others
            async with self._factory() as session:
                await self._load_earlier(session, earlier)
                await session.rollback()
            payloads += [msgspec.to_builtins(self._earlier[e]) for e in earlier if e in self._earlier]
        payloads = _with_nested(payloads)
        named = _ids_by(payloads, ("user_id", "staff_id", "patient_id"))
        users, staff, patients = named["user_id"], named["staff_id"], named["patient_id"]
        if not refresh:
            users = {u for u in users - self._missing
                     if str(u) not in self._staff_by_user and str(u) not in self._patient_by_user}
            staff = {s for s in staff - self._missing if str(s) not in self._staff_by_id}
            patients = {p for p in patients - self._missing if str(p) not in self._patient_by_id}
            if not (users or staff or patients):
                return
        async with self._factory() as session:
            if refresh:
                rows = (await session.execute(select(Department))).scalars().all()
                self._departments = {d.code: d.name for d in rows}  # swapped whole, never seen half-loaded
            if users or staff:
                members = select(StaffMember).where(or_(StaffMember.user_id.in_(users),  # type: ignore[attr-defined]
                                                        StaffMember.id.in_(staff)))  # type: ignore[attr-defined]
                for member in (await session.execute(members)).scalars():
                    self._add_staff(member)
            if users or patients:
                people = select(Patient).where(or_(Patient.user_id.in_(users),  # type: ignore[attr-defined]
                                                   Patient.id.in_(patients)))  # type: ignore[attr-defined]
                for patient in (await session.execute(people)).scalars():
                    self._add_patient(patient)
            await session.rollback()
        self._missing |= {u for u in users if str(u) not in self._staff_by_user and str(u) not in self._patient_by_user}
        self._missing |= {s for s in staff if str(s) not in self._staff_by_id}
        self._missing |= {p for p in patients if str(p) not in self._patient_by_id}

    async def _load_earlier(self, session: AsyncSession, wanted: set[tuple[str, str]]) -> None:
        """The first event of each wanted (type, subject), its sealed part opened and its payload converted into
        its contract Struct (`MapContext.earlier`)."""
        query = select(OutboxEvent.event_type, OutboxEvent.subject_id, OutboxEvent.payload).where(  # type: ignore[call-overload]
            OutboxEvent.event_type.in_({t for t, _ in wanted}),  # type: ignore[attr-defined]
            OutboxEvent.subject_id.in_({i for _, i in wanted})).order_by(OutboxEvent.version.desc())  # type: ignore[attr-defined]
        for event_type, subject_id, payload in (await session.execute(query)).all():
            if (event_type, subject_id) in wanted:
                try:
                    self._earlier[(event_type, subject_id)] = conform(event_type, opened_payload(payload or {}, self))
                except ContractViolation as exc:
                    self._earlier_refused[(event_type, subject_id)] = exc.detail

    def _add_staff(self, member: StaffMember) -> None:
        ref = StaffRef(str(member.id), str(member.user_id), member.real_name,
                       self._cipher.open_text(member.id_number_sealed, context="staff.id_number"), member.kind,
                       member.title, tuple(member.departments))
        self._staff_by_user[ref.user_id] = self._staff_by_id[ref.staff_id] = ref

    def _add_patient(self, patient: Patient) -> None:
        ref = PatientRef(str(patient.id), str(patient.user_id), patient.real_name,
                         self._cipher.open_text(patient.id_number_sealed, context="patient.id_number"),
                         patient.birth_date, patient.sex)
        self._patient_by_id[ref.patient_id] = self._patient_by_user[ref.user_id] = ref

    # References ---------------------------------------------------------------------------------------
    def staff(self, *, user_id: str | None = None, staff_id: str | None = None) -> StaffRef | None:
        if staff_id is not None:
            return self._staff_by_id.get(staff_id)
        return self._staff_by_user.get(user_id or "")

    def patient(self, *, patient_id: str | None = None, user_id: str | None = None) -> PatientRef | None:
        if patient_id is not None:
            return self._patient_by_id.get(patient_id)
        return self._patient_by_user.get(user_id or "")

    def department_name(self, code: str) -> str | None:
        return (self._departments or {}).get(code)

    def earlier(self, event_type: str, subject_id: str) -> Payload | None:
        refused = self._earlier_refused.get((event_type, subject_id))
        if refused is not None:
            raise MappingFailed(f"the {event_type} event of {subject_id} cannot be read: {refused}")
        return self._earlier.get((event_type, subject_id))

    def open_sealed(self, sealed: str) -> str:
        try:
            return self._cipher.open_text(base64.b64decode(sealed), context=SEALED_CONTEXT)
        except (binascii.Error, ValueError) as exc:
            raise MappingFailed("the payload's sealed part is not base64") from exc


def opened_payload(payload: Mapping[str, Any], refs: Directory | None) -> dict[str, Any]:
    """The payload with its `sealed` part (if any) opened and merged in."""
    merged = {k: v for k, v in payload.items() if k != "sealed"}
    sealed = payload.get("sealed")
    if sealed:
        if refs is None:
            raise MappingFailed("the payload has a sealed part and no key to open it")
        opened = json.loads(refs.open_sealed(str(sealed)))
        if not isinstance(opened, dict):
            raise MappingFailed("the payload's sealed part is not a JSON object")
        merged.update(opened)
    return merged
