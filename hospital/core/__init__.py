"""Shared machinery: errors, the rule registry, audit chain, outbox, encryption, blob store."""
