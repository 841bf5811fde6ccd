"""REV-06: a waiting visit's place moves as the visits before it are taken (接诊), end or are cancelled."""

from __future__ import annotations

from hospital.visits.booking.rules import QueuePlace, queue_place


def test_the_place_counts_the_visits_before_it_that_the_doctor_has_not_yet_taken() -> None:
    assert queue_place(3, "requested", [(1, "requested"), (2, "requested"), (3, "requested")]) == QueuePlace(3, 2, 0)
    assert queue_place(3, "requested", [(1, "accepted"), (2, "requested"), (3, "requested")]) == QueuePlace(2, 2, 1)
    assert queue_place(3, "requested", [(1, "in_progress"), (2, "cancelled"), (3, "requested")]) == QueuePlace(1, 1, 1)
    assert queue_place(3, "requested", [(1, "completed"), (2, "terminated"), (4, "requested")]) == QueuePlace(1, 0, 0)
    assert queue_place(3, "accepted", [(1, "requested")]) is None
