"""What the simulated platform holds: accepted records (every version), risk warnings, files, seen nonces
and a log of requests. SQLite, in memory by default or in a file so it survives restarts."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable
from typing import Any

from connectors.supervision.simulator.checks import RiskWarning

__all__ = ["PlatformStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL, business_id TEXT NOT NULL,
    version TEXT NOT NULL, record TEXT NOT NULL, received_ms INTEGER NOT NULL, duplicates INTEGER NOT NULL DEFAULT 0,
    UNIQUE (method, business_id, version));
CREATE TABLE IF NOT EXISTS warnings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, check_name TEXT NOT NULL, rule_id TEXT NOT NULL, method TEXT NOT NULL,
    business_id TEXT NOT NULL, message TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    file_id TEXT PRIMARY KEY, file_name TEXT NOT NULL, type TEXT NOT NULL, size INTEGER NOT NULL,
    content_base64 TEXT NOT NULL, received_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, received_ms INTEGER NOT NULL, path TEXT NOT NULL, method TEXT NOT NULL,
    nonce TEXT NOT NULL, records INTEGER NOT NULL, code INTEGER, msg_code INTEGER, msg TEXT NOT NULL,
    fault TEXT NOT NULL);
"""
_TABLES = ("records", "warnings", "nonces", "files", "requests")


class PlatformStore:
    """The platform's storage. `path` is a SQLite file, or ":memory:" (the default)."""

    def __init__(self, path: str = ":memory:", *, nonce_keep_ms: int = 2 * 900_000) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(_SCHEMA)
        self._nonce_keep_ms = nonce_keep_ms

    def close(self) -> None:
        self._db.close()

    def reset(self) -> None:
        for table in _TABLES:
            self._db.execute(f"DELETE FROM {table}")  # nosec B608

    # records --------------------------------------------------------------------------------------------
    def put(self, method: str, business_id: str, version: str, record: dict[str, Any], now_ms: int) -> bool:
        """Store a record; False (and a duplicate counted) when this business ID and version are already held."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO records (method, business_id, version, record, received_ms) VALUES (?, ?, ?, ?, ?)",
            (method, business_id, version, json.dumps(record, ensure_ascii=False), now_ms),
        )
        if cursor.rowcount:
            return True
        self._db.execute(
            "UPDATE records SET duplicates = duplicates + 1 WHERE method = ? AND business_id = ? AND version = ?",
            (method, business_id, version),
        )
        return False

    def find(self, method: str, business_id: str) -> dict[str, Any] | None:
        """The latest version of one business record."""
        row = self._db.execute(
            "SELECT record FROM records WHERE method = ? AND business_id = ? ORDER BY seq DESC LIMIT 1",
            (method, business_id),
        ).fetchone()
        return json.loads(row["record"]) if row else None

    def current(self, method: str) -> list[dict[str, Any]]:
        """The latest version of every business record of `method`, in order of arrival."""
        rows = self._db.execute(
            "SELECT record FROM records r WHERE method = ? AND seq = "
            "(SELECT MAX(seq) FROM records WHERE method = r.method AND business_id = r.business_id) ORDER BY seq",
            (method,),
        )
        return [json.loads(row["record"]) for row in rows]

    def entries(self, method: str | None = None) -> list[dict[str, Any]]:
        """Every stored version with its business ID, version, duplicate count and arrival time."""
        query = "SELECT * FROM records" + (" WHERE method = ?" if method else "") + " ORDER BY seq"  # nosec B608
        return [
            {"method": r["method"], "businessId": r["business_id"], "version": r["version"],
             "duplicates": r["duplicates"], "receivedMs": r["received_ms"], "record": json.loads(r["record"])}
            for r in self._db.execute(query, (method,) if method else ())
        ]

    # warnings -------------------------------------------------------------------------------------------
    def add_warnings(self, warnings: Iterable[RiskWarning], now_ms: int) -> None:
        self._db.executemany(
            "INSERT INTO warnings (check_name, rule_id, method, business_id, message, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
            [(w.check, w.rule_id, w.method, w.business_id, w.message, now_ms) for w in warnings],
        )

    def warnings(self) -> list[dict[str, Any]]:
        return [
            {"check": r["check_name"], "ruleId": r["rule_id"], "method": r["method"], "businessId": r["business_id"],
             "message": r["message"], "createdMs": r["created_ms"]}
            for r in self._db.execute("SELECT * FROM warnings ORDER BY seq")
        ]

    # nonces (the gateway's NonceStore) ------------------------------------------------------------------
    def remember(self, nonce: str, now_ms: int) -> bool:
        self._db.execute("DELETE FROM nonces WHERE seen_ms < ?", (now_ms - self._nonce_keep_ms,))
        cursor = self._db.execute("INSERT OR IGNORE INTO nonces (nonce, seen_ms) VALUES (?, ?)", (nonce, now_ms))
        return bool(cursor.rowcount)

    # files ----------------------------------------------------------------------------------------------
    def add_file(self, file_name: str, file_type: str, size: int, content_base64: str, now_ms: int) -> str:
        file_id = uuid.uuid4().hex
        self._db.execute(
            "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?)", (file_id, file_name, file_type, size, content_base64, now_ms)
        )
        return file_id

    def files(self) -> list[dict[str, Any]]:
        return [
            {"fileId": r["file_id"], "fileName": r["file_name"], "type": r["type"], "size": r["size"],
             "receivedMs": r["received_ms"]}
            for r in self._db.execute("SELECT * FROM files ORDER BY received_ms")
        ]

    # request log ----------------------------------------------------------------------------------------
    def log_request(self, entry: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO requests (received_ms, path, method, nonce, records, code, msg_code, msg, fault) "
            "VALUES (:receivedMs, :path, :method, :nonce, :records, :code, :msgCode, :msg, :fault)",
            entry,
        )

    def requests(self) -> list[dict[str, Any]]:
        return [
            {"receivedMs": r["received_ms"], "path": r["path"], "method": r["method"], "nonce": r["nonce"],
             "records": r["records"], "code": r["code"], "msgCode": r["msg_code"], "msg": r["msg"], "fault": r["fault"]}
            for r in self._db.execute("SELECT * FROM requests ORDER BY seq")
        ]
