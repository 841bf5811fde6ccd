"""Hands items from the event loop to a worker thread in batches, a few times a second.

Waking a thread per encoded frame (about 65 a second per participant with audio) costs more than the
work itself and makes the worker fight the event loop for the GIL; one hand-off per `interval_s` does not.
"""

from __future__ import annotations

import asyncio
import queue
from typing import Generic, TypeVar

__all__ = ["BatchHandoff"]

T = TypeVar("T")


class BatchHandoff(Generic[T]):
    """`put` on the event loop; the worker thread calls `get` and receives lists, then None when closed."""

    def __init__(self, *, interval_s: float = 0.25, max_batches: int = 120) -> None:
        self._interval_s = interval_s
        self._max_batches = max_batches
        self._queue: queue.Queue[list[T] | None] = queue.Queue()
        self._batch: list[T] = []
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False

    def put(self, item: T) -> bool:
        """Queue `item`; False (and dropped) when the worker is `max_batches` behind or closed."""
        if self.closed or self._queue.qsize() >= self._max_batches:
            return False
        self._batch.append(item)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval_s, self.flush)
        return True

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._batch:
            self._queue.put(self._batch)
            self._batch = []

    def discard_backlog(self) -> None:
        """Drop whatever the worker has not taken yet (it fell behind)."""
        self._batch = []
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def close(self) -> None:
        """Hand over the last batch and tell the worker to stop; safe from any thread once."""
        if not self.closed:
            self.closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._batch:
                self._queue.put(self._batch)
                self._batch = []
            self._queue.put(None)

    def get(self) -> list[T] | None:
        """Worker side: the next batch, or None after `close`."""
        return self._queue.get()
