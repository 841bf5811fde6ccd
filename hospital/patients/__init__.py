"""Patients: real-name registration (PAT-01)."""
