"""Who listens to whom: every subscriber of every area's events, registered in this one place.

An area publishes its events (`hospital.core.events`) without knowing who listens; this module, the only one
allowed to import every area for that purpose, says who does. Every entry point calls it: `create_app`, the CLI
commands that build a context (`wired_context`), the demo seed (through `hospital demo`), the tests' `ctx`
fixture. A context that was never wired refuses to publish (`SubscribersNotWired`): a suspension never runs
without the subscriber that revokes the clinician's signing devices.
"""

from __future__ import annotations

from hospital.biometrics.service.sessions import practice_session_open
from hospital.config import Settings
from hospital.context import HospitalContext, build_context
from hospital.core.events import Subscribers
from hospital.identity.events import MayCarryPracticeSession, MayOpenSession, OwnProfileSection
from hospital.patients.service import profile_section
from hospital.prescriptions.review.service import on_visit_ended
from hospital.signing.service import on_suspension_changed
from hospital.staff.events import SuspensionChanged
from hospital.staff.service import may_open_session
from hospital.visits.booking.events import VisitEnded

__all__ = ["subscribers", "wire", "wired_context"]


def subscribers() -> Subscribers:
    """A new registry holding every subscriber, in the order each event's subscribers run."""
    registry = Subscribers()
    # staff → signing: a suspension revokes every signing device of the clinician; after reinstatement they
    # register a device again with a fresh face (RX-05, STAFF-03). The hospital issues no key at admission.
    registry.on(SuspensionChanged, on_suspension_changed)
    # identity → biometrics: a renewed token carries a practice session only while it is open (FACE-02)
    registry.answer(MayCarryPracticeSession, practice_session_open)
    # identity → staff: a suspended clinician opens no log-in session (SEC-01, STAFF-03)
    registry.answer(MayOpenSession, may_open_session)
    # identity → patients: a patient's own profile shows their real-name record
    registry.answer(OwnProfileSection, profile_section)
    # visits → prescriptions: a terminated or cancelled visit's pending prescriptions are voided (RX-06, REV-04)
    registry.on(VisitEnded, on_visit_ended)
    return registry


def wire(ctx: HospitalContext) -> HospitalContext:
    """Give `ctx` every subscriber (a context already wired keeps its registry); returns `ctx`."""
    if ctx.subscribers is None:
        ctx.subscribers = subscribers()
    return ctx


def wired_context(settings: Settings) -> HospitalContext:
    """The context an entry point runs use cases with: built from `settings`, and wired."""
    return wire(build_context(settings))
