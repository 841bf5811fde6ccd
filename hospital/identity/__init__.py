"""Users, log-in, tokens, roles and guards (SEC-01)."""
