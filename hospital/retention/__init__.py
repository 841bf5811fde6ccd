"""Retention (REC-02): a job over every area's records, not an area of its own clinical work.

`rules` (pure: nothing is purged before its date), `service` (find what is due, purge it in one
transaction), `cli` (`hospital retention purge`). The retention classes and `purge_not_before`, which every
area needs when it creates a record, live below all areas in `hospital.core.retention`.
"""
