"""Connectors to systems outside the hospital (the provincial supervision platform)."""
