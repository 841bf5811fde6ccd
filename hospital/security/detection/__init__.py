"""Leak detection (SEC-02): the scan that walks the audit chain and reads the trail for leak patterns, and opens
an incident in the register (`hospital.security.incidents`) per new finding.

Rooms: `rules` (pure: the access facts, the detections, their thresholds and windows, matching a finding to a
known incident), `service` (`scan`), `jobs` (the periodic scan in the app's lifespan), `api` (Scan now).
Above incidents.
"""
