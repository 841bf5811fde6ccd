"""`supervision-sim`: serve the simulated supervision platform with uvicorn (for development and demos)."""

from __future__ import annotations

import click

from connectors.supervision.gateway.sm import CipherError
from connectors.supervision.simulator.app import create_simulator_app
from connectors.supervision.simulator.config import SimulatorConfig

__all__ = ["supervision_sim"]


@click.command(name="supervision-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--unit-id", envvar="SUPERVISION_SIM_UNIT_ID", required=True, help="the unit's unitId")
@click.option("--app-key", envvar="SUPERVISION_SIM_APP_KEY", required=True, help="the unit's appKey")
@click.option("--app-secret", envvar="SUPERVISION_SIM_APP_SECRET", required=True, metavar="HEX",
              help="the unit's appSecret (32 hex characters)")
@click.option("--store", "store_path", type=click.Path(dir_okay=False), default=None,
              help="SQLite file that keeps records across restarts (default: in memory)")
@click.option("--window", "window_s", default=900, show_default=True, type=int,
              help="accepted clock difference of X-Ca-Timestamp, seconds")
@click.option("--max-use-days", default=7, show_default=True, type=int, help="days of supply before over-quantity")
def supervision_sim(
    host: str, port: int, unit_id: str, app_key: str, app_secret: str, store_path: str | None, window_s: int,
    max_use_days: int,
) -> None:
    """Serve the simulated provincial supervision platform: the protocol at POST /openapi/api, admin under /sim/."""
    import uvicorn

    try:
        config = SimulatorConfig(
            unit_id=unit_id, app_key=app_key, app_secret=app_secret, timestamp_window_s=window_s,
            store_path=store_path or ":memory:", max_use_days=max_use_days,
        )
    except CipherError as exc:
        raise click.BadParameter(exc.detail, param_hint="--app-secret") from exc
    uvicorn.run(create_simulator_app(config), host=host, port=port)


if __name__ == "__main__":
    supervision_sim()
