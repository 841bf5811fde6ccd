"""The connector page's red or green (issue 14): green only with a platform configured and the lag under the
threshold; no platform is red whatever the lag, a lag over the threshold is red."""

from __future__ import annotations

import pytest

from connectors.supervision.operations import connector_health


@pytest.mark.parametrize(("configured", "lag_s", "alarms"), [
    (True, None, ()),  # nothing waiting
    (True, 299.9, ()),
    (True, 300.0, ()),  # at the threshold is not over it
    (True, 300.1, ("lag_over_threshold",)),
    (False, None, ("not_configured",)),  # nothing reaches the regulator, even with an empty queue
    (False, 825.4, ("not_configured", "lag_over_threshold")),  # the 22 events waiting 14 minutes
])
def test_health_is_red_without_a_platform_or_over_the_lag_threshold(
    configured: bool, lag_s: float | None, alarms: tuple[str, ...]
) -> None:
    health = connector_health(configured=configured, lag_s=lag_s, lag_threshold_s=300.0)
    assert health.alarms == alarms and health.ok is (alarms == ()) and health.lag_threshold_s == 300.0
