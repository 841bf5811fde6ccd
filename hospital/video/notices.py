"""What the participants' pages are told while a call runs: joined, left, paused, resumed (FACE-02).

Each open events socket subscribes an inbox for its visit and role; `publish` puts a notice in every inbox
of the visit meant for that role. Inboxes remember their event loop, so a notice may come from any thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hospital.video.contracts import ROLES

__all__ = ["CallNotices", "Inbox"]

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Inbox:
    """One page's queue of notices; `None` means the hospital is closing the call."""

    role: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=lambda: asyncio.Queue(maxsize=64))

    def put(self, notice: dict[str, Any] | None) -> None:
        self.loop.call_soon_threadsafe(self._put, notice)

    def _put(self, notice: dict[str, Any] | None) -> None:
        try:
            self.queue.put_nowait(notice)
        except asyncio.QueueFull:  # a page that reads nothing for 64 notices gets no more; it re-reads the state
            logger.warning("a call page is not reading its notices; one was dropped")


class CallNotices:
    """The open inboxes of every visit (one registry object, no module globals)."""

    def __init__(self) -> None:
        self._inboxes: dict[str, set[Inbox]] = {}

    @contextmanager
    def subscribe(self, visit_id: str, role: str) -> Iterator[Inbox]:
        inbox = Inbox(role, asyncio.get_running_loop())
        self._inboxes.setdefault(visit_id, set()).add(inbox)
        try:
            yield inbox
        finally:
            inboxes = self._inboxes.get(visit_id)
            if inboxes is not None:
                inboxes.discard(inbox)
                if not inboxes:
                    del self._inboxes[visit_id]

    def publish(self, visit_id: str, notice: dict[str, Any], roles: Iterable[str] = ROLES) -> int:
        """Tell the visit's open pages of `roles`; returns how many inboxes got it."""
        wanted = set(roles)
        told = 0
        for inbox in list(self._inboxes.get(visit_id, ())):
            if inbox.role in wanted:
                inbox.put(notice)
                told += 1
        return told

    def listeners(self, visit_id: str) -> int:
        return len(self._inboxes.get(visit_id, ()))

    def close_all(self) -> None:
        for inboxes in list(self._inboxes.values()):
            for inbox in list(inboxes):
                inbox.put(None)
