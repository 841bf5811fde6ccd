"""Backup and restore: the database and the blob store in one archive, consistent with each other."""
