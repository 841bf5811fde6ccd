"""One clock: every "today" in the product is the hospital's calendar day, never the machine's local date."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hospital.config import ConfigurationError, Settings
from hospital.context import HospitalContext, build_context
from hospital.core.clock import CHINA_TIME, local_date, time_zone

REPO = Path(__file__).resolve().parents[3]


def _ctx(tmp_path: Path, moment: datetime, zone: str = "Asia/Shanghai") -> HospitalContext:
    ctx = build_context(Settings(environment="test", data_dir=tmp_path, time_zone=zone))
    ctx.clock = lambda: moment
    return ctx


@pytest.mark.parametrize(("moment", "china_day"), [
    (datetime(2026, 12, 2, 15, 30, tzinfo=UTC), date(2026, 12, 2)),  # 23:30 in China
    (datetime(2026, 12, 2, 16, 30, tzinfo=UTC), date(2026, 12, 3)),  # 00:30 in China: the machine's date lags
    (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), date(2027, 1, 1)),  # China's midnight on new year's eve
])
def test_today_is_chinas_calendar_day_at_each_side_of_its_midnight(tmp_path: Path, moment: datetime,
                                                                    china_day: date) -> None:
    ctx = _ctx(tmp_path, moment)
    assert ctx.today() == china_day
    assert ctx.local_date(moment) == china_day == local_date(moment)


def test_the_hospitals_zone_is_configurable_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    moment = datetime(2026, 12, 2, 16, 30, tzinfo=UTC)
    assert _ctx(tmp_path, moment, "Asia/Urumqi").today() == date(2026, 12, 2)  # UTC+6: 22:30
    assert time_zone("Asia/Shanghai") is CHINA_TIME
    with pytest.raises(ConfigurationError, match="HOSPITAL_TIME_ZONE"):
        Settings(environment="test", data_dir=tmp_path, time_zone="Mars/Olympus").check()


def test_a_naive_moment_has_no_calendar_day() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_date(datetime(2026, 12, 2, 16, 30))


def _machine_dates(tree: ast.AST) -> list[int]:
    """Lines that take a date or a naive time from the machine: date.today(), datetime.today(), datetime.now()
    or datetime.utcnow() without a zone, <anything>.now().date(), time.localtime()."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        func = node.func
        owner = func.value.id if isinstance(func.value, ast.Name) else None
        if (func.attr == "today" and owner in {"date", "datetime"}) or \
                (func.attr == "utcnow" and owner == "datetime") or \
                (func.attr == "now" and owner == "datetime" and not node.args and not node.keywords) or \
                (func.attr == "localtime" and owner == "time") or \
                (func.attr == "date" and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Attribute)
                 and func.value.func.attr == "now"):
            lines.append(node.lineno)
    return lines


def test_no_product_code_takes_its_date_from_the_machine() -> None:
    offenders = []
    for package in ("hospital", "connectors"):
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            offenders += [f"{path.relative_to(REPO)}:{line}" for line in _machine_dates(ast.parse(path.read_text()))]
    assert offenders == [], "use ctx.today() / ctx.local_date() (hospital.core.clock): " + ", ".join(offenders)


def test_the_scan_finds_what_it_forbids() -> None:
    source = "date.today()\ndatetime.now()\nctx.now().date()\ndatetime.now(UTC)\nctx.today()\n"
    assert _machine_dates(ast.parse(source)) == [1, 2, 3]
