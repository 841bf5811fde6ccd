"""Dispensing and delivery (RX-08): an approved prescription is dispensed once, then shipped and delivered."""
