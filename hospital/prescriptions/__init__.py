"""Prescriptions (RX): the formulary, the pure prescription rules, review and dispensing."""
