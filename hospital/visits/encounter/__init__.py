"""Encounter: the visit after booking: accept, start, complete, terminate (REV-04), the EMR (REC-01) and chat."""
