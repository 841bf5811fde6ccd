"""`supervision-sim`: serve the simulated supervision platform with uvicorn (for development and demos);
`supervision-sim report`: what a connector has exercised so far (report.py)."""

from __future__ import annotations

import click

from connectors.supervision.gateway.sm import CipherError
from connectors.supervision.simulator.app import create_simulator_app
from connectors.supervision.simulator.config import SimulatorConfig
from connectors.supervision.simulator.report import report_command

__all__ = ["supervision_sim"]


@click.group(name="supervision-sim", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--unit-id", envvar="SUPERVISION_SIM_UNIT_ID", default=None, help="the unit's unitId")
@click.option("--app-key", envvar="SUPERVISION_SIM_APP_KEY", default=None, help="the unit's appKey")
@click.option("--app-secret", envvar="SUPERVISION_SIM_APP_SECRET", default=None, metavar="HEX",
              help="the unit's appSecret (32 hex characters)")
@click.option("--store", "store_path", type=click.Path(dir_okay=False), default=None,
              help="SQLite file that keeps records across restarts (default: in memory)")
@click.option("--window", "window_s", default=900, show_default=True, type=int,
              help="accepted clock difference of X-Ca-Timestamp, seconds")
@click.option("--max-use-days", default=7, show_default=True, type=int, help="days of supply before over-quantity")
@click.pass_context
def supervision_sim(
    context: click.Context, host: str, port: int, unit_id: str | None, app_key: str | None, app_secret: str | None,
    store_path: str | None, window_s: int, max_use_days: int,
) -> None:
    """Serve the simulated provincial supervision platform: the protocol at POST /openapi/api, admin under /sim/."""
    import uvicorn

    if context.invoked_subcommand is not None:
        return
    for name, value in (("--unit-id", unit_id), ("--app-key", app_key), ("--app-secret", app_secret)):
        if not value:
            raise click.UsageError(f"Missing option '{name}'.")
    assert unit_id and app_key and app_secret

    try:
        config = SimulatorConfig(
            unit_id=unit_id, app_key=app_key, app_secret=app_secret, timestamp_window_s=window_s,
            store_path=store_path or ":memory:", max_use_days=max_use_days,
        )
    except CipherError as exc:
        raise click.BadParameter(exc.detail, param_hint="--app-secret") from exc
    uvicorn.run(create_simulator_app(config), host=host, port=port)


supervision_sim.add_command(report_command)


if __name__ == "__main__":
    supervision_sim()
