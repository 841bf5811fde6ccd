"""The institution's reviewed reference file for the public disclosure (INS-03): service hours and modes,
reply time limits, service prices, the complaint channel and the dispute procedure — what is not in the
database. `data/disclosure.json` beside this module, or the hospital's own `disclosure.json` in the data
directory, which takes precedence. The consent (PAT-02) names the same complaint line: one source.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from hospital.config import ConfigurationError, Settings
from hospital.contracts.institution_views import (
    Complaints,
    ReplyTimeLimit,
    ServiceHours,
    ServiceMode,
    ServicePrice,
    Text,
)
from hospital.core.errors import ServiceUnavailable

__all__ = ["DISCLOSURE_FILE", "DisclosureSettings", "consultation_fees", "load_disclosure_settings",
           "require_own_disclosure"]

DISCLOSURE_FILE = Path(__file__).with_name("data") / "disclosure.json"


class DisclosureSettings(msgspec.Struct, forbid_unknown_fields=True, rename={"about": "_about", "source": "_source"}):
    """The shape of disclosure.json; a file that does not match is refused at load."""

    service_hours: list[ServiceHours]
    service_modes: list[ServiceMode]
    reply_time_limits: list[ReplyTimeLimit]
    service_prices: list[ServicePrice]
    complaints: Complaints
    dispute_procedure: list[Text]
    about: str = ""
    source: str = ""


def load_disclosure_settings(data_dir: Path | None = None, *, fallback: bool = True) -> DisclosureSettings:
    """The hospital's own file in `data_dir` if present, else (`fallback`, never in production) the demo file;
    ServiceUnavailable if malformed or, without fallback, missing."""
    own = data_dir / "disclosure.json" if data_dir is not None else None
    if not fallback and (own is None or not own.exists()):
        raise ServiceUnavailable(f"INS-03: the hospital's own disclosure file {own} is missing")
    path = own if own is not None and own.exists() else DISCLOSURE_FILE
    try:
        return msgspec.json.decode(path.read_bytes(), type=DisclosureSettings)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ServiceUnavailable(f"INS-03: the disclosure file {path} is malformed: {exc}") from exc


def consultation_fees(settings: DisclosureSettings) -> dict[str, str]:
    """The published fee of each consultation mode, from the fee table's `consult_<mode>` rows (INS-03).

    The one source of a visit's price: schedules do not carry their own, so what booking shows and accepts is
    what the disclosure page publishes."""
    return {p.code.removeprefix("consult_"): p.price_cny for p in settings.service_prices if p.code.startswith("consult_")}


def require_own_disclosure(settings: Settings) -> None:
    """INS-03 at start: production publishes its own disclosure (`<data dir>/disclosure.json`), never the demo's:
    a missing file, a copy of the demo file or the demo's complaint line refuses to start."""
    if not settings.is_production:
        return
    own = settings.data_dir / "disclosure.json"
    if not own.exists():
        raise ConfigurationError(f"INS-03: production needs the hospital's own disclosure file {own} "
                                 f"(see {DISCLOSURE_FILE} for its shape); the demo's is not published")
    try:
        mine = load_disclosure_settings(settings.data_dir, fallback=False)
    except ServiceUnavailable as exc:
        raise ConfigurationError(str(exc)) from exc
    demo = load_disclosure_settings(None)
    if mine == demo or mine.complaints.phone == demo.complaints.phone:
        raise ConfigurationError(f"INS-03: {own} is the demo's disclosure (its complaint line "
                                 f"{demo.complaints.phone}); publish the hospital's own")
