"""The connector's configuration, its backoff and its timing table."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from connectors.supervision.sending import backoff_delay
from connectors.supervision.settings import Mode, Protocol, SupervisionConfigError, load_connector_settings
from connectors.supervision.timing import batch_release, business_day, timing_of

GATEWAY = {"HOSPITAL_SUPERVISION_URL": "http://platform", "HOSPITAL_SUPERVISION_UNIT_ID": "U",
           "HOSPITAL_SUPERVISION_APP_KEY": "K", "HOSPITAL_SUPERVISION_APP_SECRET": "00" * 16}


def test_the_environment_is_read_once_into_settings() -> None:
    settings = load_connector_settings({**GATEWAY, "HOSPITAL_SUPERVISION_MODE": "T_PLUS_1",
                                        "HOSPITAL_SUPERVISION_BATCH_AT": "01:15", "HOSPITAL_SUPERVISION_PRECHECK": "0"})
    settings.check()
    assert (settings.mode, settings.protocol, settings.batch_at, settings.precheck) == (
        Mode.T_PLUS_1, Protocol.GATEWAY, time(1, 15), False)
    assert settings.organ == "U"  # organID defaults to the unit


@pytest.mark.parametrize(("env", "named"), [
    ({}, "HOSPITAL_SUPERVISION_URL"),
    ({**GATEWAY, "HOSPITAL_SUPERVISION_APP_SECRET": ""}, "HOSPITAL_SUPERVISION_APP_SECRET"),
    ({**GATEWAY, "HOSPITAL_SUPERVISION_LEASE": "5", "HOSPITAL_SUPERVISION_TIMEOUT": "10"}, "LEASE must exceed"),
    ({**GATEWAY, "HOSPITAL_SUPERVISION_MODE": "weekly"}, "HOSPITAL_SUPERVISION_MODE"),
    ({**GATEWAY, "HOSPITAL_SUPERVISION_TZ": "Mars/Olympus"}, "HOSPITAL_SUPERVISION_TZ"),
])
def test_a_configuration_the_dispatcher_cannot_run_with_is_refused_by_name(env: dict[str, str], named: str) -> None:
    with pytest.raises(SupervisionConfigError, match=named):
        load_connector_settings(env).check()


def test_a_fhir_platform_needs_no_gateway_credentials() -> None:
    load_connector_settings({"HOSPITAL_SUPERVISION_URL": "http://fhir/r4",
                             "HOSPITAL_SUPERVISION_PROTOCOL": "fhir"}).check()


def test_backoff_doubles_up_to_the_cap_with_half_of_each_step_random() -> None:
    rng = random.Random(7)
    for attempts, step in ((1, 2.0), (2, 4.0), (3, 8.0), (12, 600.0)):
        delays = [backoff_delay(attempts, 2.0, 600.0, rng) for _ in range(50)]
        assert all(step / 2 <= d <= step for d in delays) and len(set(delays)) > 1


def test_business_records_wait_for_the_batch_after_their_day_and_reference_data_does_not() -> None:
    assert timing_of("uploadRecipeIndicators").t_plus_1 and not timing_of("uploadDoctorIndicators").t_plus_1
    assert "uploadDrugCatalogue" in timing_of("uploadRecipeIndicators").after
    shanghai = ZoneInfo("Asia/Shanghai")
    late = datetime(2024, 6, 12, 17, 30, tzinfo=UTC)  # 01:30 on the 13th in Shanghai
    assert business_day(late, shanghai) == date(2024, 6, 13)
    assert batch_release(date(2024, 6, 13), shanghai, time(0, 30)) == datetime(2024, 6, 14, 0, 30, tzinfo=shanghai)


def test_every_method_others_wait_for_names_the_event_types_it_is_routed_from() -> None:
    from connectors.supervision.gateway.methods import all_methods
    from connectors.supervision.mapping import registry

    waited_for = {m for method in all_methods() for m in timing_of(method).after}
    assert waited_for >= {"uploadOrganIndicators", "uploadDoctorIndicators", "uploadDrugCatalogue"}
    for method in waited_for:
        routed_from = timing_of(method).routed_from
        assert routed_from and routed_from <= set(registry()), method
    assert timing_of("uploadDoctorIndicators").routed_from == {"staff.record", "signing.device_revoked"}
