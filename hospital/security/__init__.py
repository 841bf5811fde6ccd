"""Security: leak detection, the incident register and its emergency procedure (SEC-02), as two sub-areas with
the same rooms:

- `incidents`: the register and its procedure (assess, contain, report to the authorities, review, close), the
  reviewed table of authorities in `incidents/data/`;
- `detection`: the scan of the audit chain and trail, which opens incidents; the periodic scan (`jobs`).

The order is incidents < detection: the scan opens incidents, the register never imports the scan. The area's
command group (`cli`, `hospital security scan | incidents`) uses both.
"""
