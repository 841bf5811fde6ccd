"""In-process domain events: an area says what happened as a typed value; the areas that care subscribe.

An event is a frozen dataclass named in the domain's words and defined by the area that publishes it
(`hospital/staff/events.py`: `ClinicianAdmitted`, `SuspensionChanged`). A `Question` is an event whose
subscribers answer (identity asks whether a renewed token may carry a practice session; biometrics answers).

Subscribers are registered in one place, `hospital/wiring.py`, which every entry point calls (the app, the
CLI, the tests' context). The registry lives on the `HospitalContext`; publishing through a context that was
never wired raises `SubscribersNotWired`: a use case that publishes never runs without its subscribers (a
clinician admitted without a signing key, and nothing saying so).

Subscribers are awaited one after another, in the order they were registered, with the publisher's session:
they act in the publisher's transaction and never commit; an exception in one aborts the whole use case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from hospital.context import HospitalContext

__all__ = ["Answerer", "Event", "Handler", "Question", "Subscribers", "SubscribersNotWired", "ask", "publish"]

A = TypeVar("A")
E = TypeVar("E", bound="Event")
Q = TypeVar("Q", bound="Question[Any]")


class Event:
    """Base of every domain event: subclasses are frozen dataclasses of plain values (ids, flags, the actor)."""

    __slots__ = ()


class Question(Event, Generic[A]):
    """An event whose subscribers each answer with an `A`; the publisher decides what the answers mean."""

    __slots__ = ()


Handler = Callable[[AsyncSession, "HospitalContext", E], Awaitable[None]]
Answerer = Callable[[AsyncSession, "HospitalContext", Q], Awaitable[Any]]


class SubscribersNotWired(RuntimeError):
    """A use case published an event through a context whose subscribers were never registered."""

    def __init__(self, event: type[Event] | None = None) -> None:
        what = f" ({event.__name__} would reach none of its subscribers)" if event is not None else ""
        super().__init__(f"subscribers not wired{what}: the entry point must call hospital.wiring.wire(ctx) "
                         "before any use case runs")


class Subscribers:
    """The registry: for each event class, its subscribers in order. Built by `hospital.wiring.subscribers()`."""

    def __init__(self) -> None:
        self._by_event: dict[type[Event], list[Callable[..., Awaitable[Any]]]] = {}

    def on(self, event: type[E], handler: Handler[E]) -> None:
        """Subscribe `handler` to `event` (and only to that class, not its subclasses)."""
        if issubclass(event, Question):
            raise TypeError(f"{event.__name__} is a question: register its answerers with answer()")
        self._add(event, handler)

    def answer(self, question: type[Q], answerer: Answerer[Q]) -> None:
        """Register `answerer` for `question`."""
        if not issubclass(question, Question):
            raise TypeError(f"{question.__name__} is not a question: subscribe with on()")
        self._add(question, answerer)

    def _add(self, event: type[Event], handler: Callable[..., Awaitable[Any]]) -> None:
        handlers = self._by_event.setdefault(event, [])
        if handler in handlers:
            raise ValueError(f"{handler.__qualname__} is already subscribed to {event.__name__}")
        handlers.append(handler)

    def of(self, event: type[Event]) -> tuple[Callable[..., Awaitable[Any]], ...]:
        """The subscribers of `event`, in order."""
        return tuple(self._by_event.get(event, ()))

    def events(self) -> frozenset[type[Event]]:
        """Every event class that has at least one subscriber."""
        return frozenset(e for e, handlers in self._by_event.items() if handlers)

    async def publish(self, session: AsyncSession, ctx: HospitalContext, event: Event) -> None:
        if isinstance(event, Question):
            raise TypeError(f"{type(event).__name__} is a question: ask() it")
        for handler in self._by_event.get(type(event), ()):
            await handler(session, ctx, event)

    async def ask(self, session: AsyncSession, ctx: HospitalContext, question: Question[A]) -> list[A]:
        return [await answerer(session, ctx, question) for answerer in self._by_event.get(type(question), ())]


async def publish(session: AsyncSession, ctx: HospitalContext, event: Event) -> None:
    """Tell `event`'s subscribers, in the caller's transaction; refuses when `ctx` was never wired."""
    await ctx.events(type(event)).publish(session, ctx, event)


async def ask(session: AsyncSession, ctx: HospitalContext, question: Question[A]) -> list[A]:
    """Every answer to `question`, in subscription order; refuses when `ctx` was never wired."""
    return await ctx.events(type(question)).ask(session, ctx, question)
