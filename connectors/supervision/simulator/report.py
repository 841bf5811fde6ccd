"""What a connector has shown the simulated platform, per unit: the acceptance report vendors read before the
platform's 接入测试 (`GET /sim/report`, `hospital supervision-sim report`), and the methods with their required
fields (`GET /sim/methods`).

The platform feeds `Coverage` as it answers: every accepted batch (which methods, which fields carried a
value, conditional required fields such as a minor's guardian included), every refusal by its path (signature,
content digest, timestamp window, nonce replay, key, IP allow-list, bad parameters; -99 missing fields with the
record's index and business ID; -1 batch rejection with the record; -98 empty), and every regulator check that
raised a risk warning. "Missing before acceptance" lists what a connector has not yet shown: a method never
accepted, a conditional required field never exercised, a refusal path never met (a connector must be seen to
survive each), and a -99 record not accepted since.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import click
from litestar import get
from litestar.handlers import HTTPRouteHandler

from connectors.supervision.gateway.envelope import (
    BadParameters,
    BadSignature,
    GatewayRefusal,
    IpNotAllowed,
    KeyMismatch,
    ReplayedNonce,
    RequestExpired,
)
from connectors.supervision.gateway.methods import all_methods, business_key, is_empty, missing_required

__all__ = ["REFUSAL_PATHS", "Coverage", "methods_table", "report_command", "report_handlers"]

# Every way the platform refuses, in the order a connector meets them.
REFUSAL_PATHS = ("key", "ip", "bad_parameters", "timestamp_window", "digest", "signature", "replay",
                 "missing_fields", "batch_rejected", "empty_batch")


def refusal_path(refusal: GatewayRefusal) -> str:
    if isinstance(refusal, ReplayedNonce):
        return "replay"
    if isinstance(refusal, RequestExpired):
        return "timestamp_window"
    if isinstance(refusal, BadSignature):
        return "digest" if "MD5" in refusal.detail else "signature"
    if isinstance(refusal, KeyMismatch):
        return "key"
    if isinstance(refusal, IpNotAllowed):
        return "ip"
    if isinstance(refusal, BadParameters):
        return "bad_parameters"
    return "bad_parameters"


def _filled(record: dict[str, Any]) -> set[str]:
    """The fields of `record` that carry a value, item fields as `list[].field`."""
    filled: set[str] = set()
    for name, value in record.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            filled.add(name)
            for item in value:
                filled |= {f"{name}[].{k}" for k, v in item.items() if not is_empty(v)}
        elif not is_empty(value):
            filled.add(name)
    return filled


def methods_table() -> list[dict[str, Any]]:
    """Every method with its fields and whether each is required (yes, if_minor, one_of:GROUP) or optional."""
    return [{"method": spec.name, "title": spec.title, "id_fields": list(spec.id_fields),
             "version_field": spec.version_field,
             "required": [{"field": f.name, "required": f.required} for f in spec.fields if f.required != "no"],
             "optional": [f.name for f in spec.fields if f.required == "no"]}
            for spec in all_methods().values()]


@dataclass
class _Method:
    records: int = 0
    batches: int = 0
    fields: set[str] = field(default_factory=set)


@dataclass
class _Unit:
    methods: dict[str, _Method] = field(default_factory=dict)
    refusals: Counter[str] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)
    missing_fields: list[dict[str, Any]] = field(default_factory=list)  # every -99 record
    rejected: list[dict[str, Any]] = field(default_factory=list)  # every -1 record
    accepted_ids: set[tuple[str, str]] = field(default_factory=set)


class Coverage:
    """The platform's record of what each unit's connector exercised."""

    def __init__(self, unit_id: str) -> None:
        self.unit_id = unit_id
        self.units: dict[str, _Unit] = {}

    def _unit(self) -> _Unit:
        return self.units.setdefault(self.unit_id, _Unit())

    def reset(self) -> None:
        self.units.clear()

    def refused(self, refusal: GatewayRefusal) -> None:
        self._unit().refusals[refusal_path(refusal)] += 1

    def empty(self) -> None:
        self._unit().refusals["empty_batch"] += 1

    def missing(self, method: str, records: list[Any], now_ms: int) -> None:
        unit = self._unit()
        unit.refusals["missing_fields"] += 1
        for index, record in enumerate(records):
            fields = missing_required(method, record)
            if fields:
                unit.missing_fields.append({"method": method, "index": index,
                                            "business_id": business_key(method, record)[0], "fields": fields,
                                            "received_ms": now_ms})

    def rejected(self, method: str, index: int, record: Any, reason: str, now_ms: int) -> None:
        unit = self._unit()
        unit.refusals["batch_rejected"] += 1
        business_id = business_key(method, record)[0] if isinstance(record, dict) else ""
        unit.rejected.append({"method": method, "index": index, "business_id": business_id, "reason": reason,
                              "received_ms": now_ms})

    def accepted(self, method: str, records: list[dict[str, Any]]) -> None:
        unit = self._unit()
        seen = unit.methods.setdefault(method, _Method())
        seen.batches += 1
        seen.records += len(records)
        for record in records:
            seen.fields |= _filled(record)
            unit.accepted_ids.add((method, business_key(method, record)[0]))

    def warned(self, warnings: list[Any]) -> None:
        for warning in warnings:
            self._unit().checks[f"{warning.check} ({warning.rule_id})"] += 1

    def report(self) -> dict[str, Any]:
        table = all_methods()
        units = self.units or {self.unit_id: _Unit()}
        out: list[dict[str, Any]] = []
        for unit_id, unit in units.items():
            methods: dict[str, Any] = {}
            missing: list[str] = []
            for name, spec in table.items():
                seen = unit.methods.get(name)
                required = [f.name for f in spec.fields if f.required != "no"]
                conditional = [f.name for f in spec.fields if f.required not in ("no", "yes")]
                fields = seen.fields if seen else set()
                methods[name] = {
                    "records_accepted": seen.records if seen else 0, "batches_accepted": seen.batches if seen else 0,
                    "required_fields_exercised": [f for f in required if f in fields],
                    "required_fields_not_exercised": [f for f in required if f not in fields],
                    "optional_fields_sent": sorted(f.name for f in spec.fields if f.required == "no" and f.name in fields),
                }
                if seen is None:
                    missing.append(f"{name}: no record accepted yet")
                else:
                    missing += [f"{name}: conditional required field {f} never exercised" for f in conditional
                                if f not in fields]
            unresolved = [m for m in unit.missing_fields if (m["method"], m["business_id"]) not in unit.accepted_ids]
            missing += [f"{m['method']} record {m['index']} ({m['business_id'] or 'no business id'}): "
                        f"required fields missing: {', '.join(m['fields'])}" for m in unresolved]
            missing += [f"refusal path never met: {path}" for path in REFUSAL_PATHS if not unit.refusals[path]]
            out.append({"unit": unit_id, "methods": methods,
                        "refusal_paths": {path: unit.refusals[path] for path in REFUSAL_PATHS},
                        "regulator_checks": dict(sorted(unit.checks.items())),
                        "missing_fields": unit.missing_fields, "rejected_records": unit.rejected,
                        "missing_before_acceptance": missing})
        return {"units": out}


def report_handlers(coverage: Coverage) -> list[HTTPRouteHandler]:
    @get("/sim/report", sync_to_thread=False)
    def report() -> dict[str, Any]:
        return coverage.report()

    @get("/sim/methods", sync_to_thread=False)
    def methods() -> list[dict[str, Any]]:
        return methods_table()

    return [report, methods]


def render(report: dict[str, Any]) -> str:
    lines: list[str] = []
    for unit in report["units"]:
        lines.append(f"unit {unit['unit']}")
        for name, seen in unit["methods"].items():
            if seen["records_accepted"]:
                lines.append(f"  {name}: {seen['records_accepted']} records in {seen['batches_accepted']} batches")
        lines.append("  refusal paths: " + ", ".join(f"{p} {n}" for p, n in unit["refusal_paths"].items()))
        for check, count in unit["regulator_checks"].items():
            lines.append(f"  regulator check {check}: {count}")
        for m in unit["missing_fields"]:
            lines.append(f"  -99 {m['method']} record {m['index']} ({m['business_id']}): {', '.join(m['fields'])}")
        lines.append(f"  missing before acceptance ({len(unit['missing_before_acceptance'])}):")
        lines += [f"    {item}" for item in unit["missing_before_acceptance"]]
    return "\n".join(lines)


@click.command("report")
@click.option("--url", default="http://127.0.0.1:8090", show_default=True, help="The running simulator.")
@click.option("--json", "as_json", is_flag=True)
def report_command(url: str, as_json: bool) -> None:
    """What the connector has exercised, per unit, and what is missing before the platform's acceptance."""
    import json

    import httpx

    body = httpx.get(f"{url.rstrip('/')}/sim/report", timeout=30).raise_for_status().json()
    click.echo(json.dumps(body, ensure_ascii=False, indent=2) if as_json else render(body))
