"""The simulated supervision platform: decrypts and verifies exactly as the gateway does, answers with the
platform's codes, de-duplicates by business ID and version, stores what it accepts, and lists the
regulator's risk warnings (SUP-01…04). Independent of the web framework; `app.py` puts it on HTTP."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.supervision.gateway.envelope import (
    UPLOAD_METHOD,
    UPLOAD_PATH,
    BadParameters,
    GatewayRefusal,
    IpNotAllowed,
    verify_request,
)
from connectors.supervision.gateway.methods import (
    all_methods,
    business_key,
    is_empty,
    missing_required,
)
from connectors.supervision.gateway.responses import platform_answer
from connectors.supervision.simulator.checks import Limits, refusal, risk_warnings
from connectors.supervision.simulator.config import SimulatorConfig
from connectors.supervision.simulator.faults import Fault, FaultInjector, FaultKind
from connectors.supervision.simulator.report import Coverage
from connectors.supervision.simulator.store import PlatformStore

__all__ = ["Platform", "Reply"]

OK, BUSY, MISSING, NO_DATA, REJECTED = 200, -1, -99, -98, -1
CHECK_IN_METHOD = "pushMedicalDispute"  # an empty array is its daily check-in, not "no data"
FILE_FIELDS = ("fileName", "contentBase64", "size", "type")


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: dict[str, Any] | str


def _business(msg_code: int, msg: str, data: Any = None) -> Reply:
    return Reply(200, platform_answer(OK, msg_code, msg, data))


def _named(method: str, index: int, record: dict[str, Any], *, fields: list[str] | None = None) -> dict[str, Any]:
    """A refused record named for the vendor: its index in the batch, its business ID, and its empty fields."""
    named: dict[str, Any] = {"index": index, "businessId": business_key(method, record)[0].strip("|")}
    if fields is not None:
        named["fields"] = fields
    return named


class Platform:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.store = PlatformStore(config.store_path, nonce_keep_ms=2 * config.window_ms)
        self.faults = FaultInjector(config.clock)
        self.limits = Limits(max_use_days=config.max_use_days)
        self.coverage = Coverage(config.unit_id)  # what the connector exercised (report.py, GET /sim/report)

    def now_ms(self) -> int:
        return int(self.config.clock() * 1000)

    def reset(self) -> None:
        self.store.reset()
        self.faults.clear()
        self.coverage.reset()

    async def receive(self, path: str, headers: Mapping[str, str], body: bytes, client_ip: str) -> Reply:
        """Answer one protocol request, with any injected fault applied."""
        fault = self.faults.take()
        lowered = {k.lower(): v for k, v in headers.items()}
        entry: dict[str, Any] = {
            "receivedMs": self.now_ms(), "path": path, "method": lowered.get("x-service-method", ""),
            "nonce": lowered.get("x-ca-nonce", ""), "records": 0, "code": None, "msgCode": None, "msg": "",
            "fault": fault.kind.value if fault else "",
        }
        reply = await self._before(fault)
        if reply is None:
            reply, entry["records"] = self._process(path, headers, body, client_ip)
            if fault is not None and fault.kind is FaultKind.SLOW:
                await asyncio.sleep(fault.delay)
        if isinstance(reply.body, dict):
            inner = reply.body.get("body") or {}
            entry.update(code=reply.body.get("code"), msgCode=inner.get("msgCode"),
                         msg=str(inner.get("msg") or reply.body.get("msg") or ""))
        else:
            entry["msg"] = f"HTTP {reply.status}"
        self.store.log_request(entry)
        return reply

    async def _before(self, fault: Fault | None) -> Reply | None:
        if fault is None or fault.kind is FaultKind.SLOW:
            return None
        if fault.kind is FaultKind.DOWN:
            return Reply(503, "Service Unavailable")
        if fault.kind is FaultKind.HTTP_500:
            return Reply(500, "Internal Server Error")
        if fault.kind is FaultKind.BUSY:
            return Reply(200, platform_answer(BUSY, msg="系统繁忙，请稍后重试"))
        await asyncio.sleep(fault.delay)  # stall: nothing is processed
        return Reply(504, "Gateway Timeout")

    def _process(self, path: str, headers: Mapping[str, str], body: bytes, client_ip: str) -> tuple[Reply, int]:
        upload = path == UPLOAD_PATH
        try:
            if self.config.allowed_ips is not None and client_ip not in self.config.allowed_ips:
                raise IpNotAllowed(f"IP {client_ip} is not on the unit's allow-list")
            try:
                text = body.decode("ascii" if not upload else "utf-8")
            except UnicodeDecodeError as exc:
                raise BadParameters("body is not the expected text") from exc
            verified = verify_request(
                headers, text, app_key=self.config.app_key, app_secret=None if upload else self.config.app_secret,
                nonces=self.store, window_ms=self.config.window_ms, now_ms=self.now_ms(),
            )
            if (verified.method == UPLOAD_METHOD) != upload:
                raise BadParameters(f"method {verified.method} does not belong on {path}")
            if not upload and verified.method not in all_methods():
                raise BadParameters(f"unknown X-Service-Method {verified.method!r}")
        except GatewayRefusal as refused:
            self.coverage.refused(refused)
            return Reply(200, platform_answer(refused.code, msg=refused.detail)), 0
        records = verified.records
        return (self._files(records) if upload else self._records(verified.method, records)), len(records)

    def _records(self, method: str, records: list[Any]) -> Reply:
        if not records:
            if method != CHECK_IN_METHOD:
                self.coverage.empty()
            return _business(OK, "签到成功") if method == CHECK_IN_METHOD else _business(NO_DATA, "数据为空")
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                self.coverage.rejected(method, index, record, "not an object", self.now_ms())
                return _business(REJECTED, f"record {index} is not an object", [{"index": index, "businessId": ""}])
        # -99: `msg` lists the empty fields joined with `|` as the SDK reads it; `data` names each record
        # (index in the batch and business ID) with its own fields, the simulator's addition where the SDK is silent.
        gaps = [(index, record, missing_required(method, record)) for index, record in enumerate(records)]
        named = [_named(method, index, record, fields=fields) for index, record, fields in gaps if fields]
        if named:
            self.coverage.missing(method, records, self.now_ms())
            missing = dict.fromkeys(name for _, _, fields in gaps for name in fields)
            return _business(MISSING, "|".join(missing), named)
        for index, record in enumerate(records):
            reason = refusal(method, record, self.store, unit_id=self.config.unit_id)
            if reason:
                self.coverage.rejected(method, index, record, reason, self.now_ms())
                who = _named(method, index, record)
                return _business(REJECTED, f"record {index} ({who['businessId'] or 'no business ID'}): {reason}",
                                 [who])
        now = self.now_ms()
        for record in records:
            business_id, version = business_key(method, record)
            if self.store.put(method, business_id, version, record, now):
                warnings = risk_warnings(method, record, self.store, self.limits)
                self.store.add_warnings(warnings, now)
                self.coverage.warned(warnings)
        self.coverage.accepted(method, records)
        return _business(OK, "成功")

    def _files(self, files: list[Any]) -> Reply:
        if not files:
            return _business(NO_DATA, "数据为空")
        decoded: list[tuple[dict[str, Any], int]] = []
        for index, item in enumerate(files):
            if not isinstance(item, dict):
                return _business(REJECTED, f"file {index} is not an object")
            missing = [f"{name}" for name in FILE_FIELDS if is_empty(item.get(name))]
            if missing:
                return _business(MISSING, "|".join(missing))
            try:
                size = len(base64.b64decode(str(item["contentBase64"]), validate=True))
            except (binascii.Error, ValueError):
                return _business(REJECTED, f"file {index}: contentBase64 is not base64")
            if str(item["size"]) != str(size):
                return _business(REJECTED, f"file {index}: size {item['size']} but the content has {size} bytes")
            decoded.append((item, size))
        now = self.now_ms()
        ids = [
            self.store.add_file(str(item["fileName"]), str(item["type"]), size, str(item["contentBase64"]), now)
            for item, size in decoded
        ]
        return _business(OK, "成功", ids)
