"""INS-04 in code: where data and servers may be. The reviewed table `data/residency.csv` lists the storage
regions in the mainland and the endpoints known to be abroad (foreign clouds by host suffix, and region names
that appear in cloud host names); every row cites its source. Configuration may narrow the regions, never
widen them: an operator cannot type `us-east-1` into an allow-list.

`residency_refusal(target, value)` checks one storage or network target (the database, the blob store, the
recordings, TURN/STUN, the platform endpoint) and names it in the refusal; `hospital.config` calls it for
every target at start.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["RESIDENCY_FILE", "ResidencyTable", "load_residency", "residency", "target_host"]

RESIDENCY_FILE = Path(__file__).parent / "data" / "residency.csv"
_KINDS = ("allowed_region", "foreign_endpoint", "foreign_region")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):/+(.*)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ResidencyTable:
    allowed_regions: frozenset[str]
    foreign_endpoints: tuple[str, ...]  # "*.amazonaws.com"
    foreign_regions: tuple[str, ...]  # "us-", "ap-singapore"

    def foreign(self, host: str) -> str | None:
        """The table entry that puts `host` abroad, or None."""
        name = host.lower().rstrip(".")
        for pattern in self.foreign_endpoints:
            suffix = pattern[1:]  # ".amazonaws.com"
            if name.endswith(suffix) or name == suffix[1:]:
                return pattern
        try:
            ipaddress.ip_address(name)
            return None  # an address says nothing of its region; the operator's host allow-list decides
        except ValueError:
            pass
        for label in name.split("."):
            for region in self.foreign_regions:  # at the start of the label or after a dash: oss-us-west-1
                if f"-{region}" in f"-{label}":
                    return region
        return None


def load_residency(path: Path = RESIDENCY_FILE) -> ResidencyTable:
    regions: set[str] = set()
    endpoints: list[str] = []
    foreign_regions: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != ("kind", "value", "source", "notes"):
            raise ValueError(f"{path.name}: columns are kind,value,source,notes")
        for row in reader:
            kind, value = (row.get("kind") or "").strip(), (row.get("value") or "").strip()
            if kind not in _KINDS or not value or not (row.get("source") or "").strip():
                raise ValueError(f"{path.name}:{reader.line_num}: a known kind, a value and a source are needed")
            if kind == "foreign_endpoint" and not value.startswith("*."):
                raise ValueError(f"{path.name}:{reader.line_num}: a foreign endpoint is a '*.suffix' pattern")
            {"allowed_region": lambda v: regions.add(v), "foreign_endpoint": endpoints.append,
             "foreign_region": foreign_regions.append}[kind](value)
    return ResidencyTable(frozenset(regions), tuple(endpoints), tuple(foreign_regions))


@cache
def residency() -> ResidencyTable:
    return load_residency()


def target_host(value: str) -> str | None:
    """The host a URL (`postgresql://…`, `turn:host:3478`, `https://…`) points at; None for a local path."""
    text = value.strip()
    found = _SCHEME.match(text)  # "s3://bucket/…", also as a Path folds it ("s3:/bucket/…")
    if found is None and not text.startswith(("turn:", "turns:", "stun:", "stuns:")):
        return None
    text = f"{found.group(1)}://{found.group(2)}" if found else text.replace(":", "://", 1)  # turn:host:3478
    return urlsplit(text.replace("+asyncpg", "").replace("+psycopg", "")).hostname
