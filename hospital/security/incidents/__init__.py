"""The security-incident register and its emergency procedure (SEC-02): open (by hand or by the scan), assess,
act on the account involved, contain, report to the authorities of the reviewed table (`data/`), review, close.

Rooms: `rules` (pure: kinds, severities, stages, the report deadline and who is told, the closing conditions),
`authorities` (the reviewed table's loader), `models` (the incident and its timeline), `service` (the use
cases, and `record_step`, which the scan also uses), `api` (`/api/admin/security/incidents`, the authorities).
Below detection: it never imports it.
"""
