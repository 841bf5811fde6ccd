"""Booking: a doctor's schedules (REV-06), booking a place with consent and an eligible prior diagnosis, the
doctor's queue, and withdrawing before the visit starts.

Rooms: `rules` (pure: the visit's state machine and the booking check), `models` (schedules, visits),
`queries` (scoped reads), `service` (publish, book, cancel, and `move_visit`), `views`, `payloads` (the
revisit record the platform is told), `api` (schedules, the queue). Above intake, below the encounter.
"""
