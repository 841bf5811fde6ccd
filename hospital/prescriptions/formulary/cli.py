"""`hospital formulary …`: check the formulary tables after an edit, and look a drug up."""

from __future__ import annotations

from pathlib import Path

import click

from hospital.prescriptions.formulary.tables import FormularyError, load_formulary

__all__ = ["formulary"]


@click.group()
def formulary() -> None:
    """The formulary tables (RX-02, RX-03, RX-04)."""


@formulary.command("check")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
def check(directory: Path | None) -> None:
    """Validate the tables in DIRECTORY (default: the bundled ones) and count what they hold."""
    try:
        loaded = load_formulary(directory)
    except FormularyError as exc:
        raise click.ClickException(str(exc)) from exc
    controlled = sum(d.is_controlled for d in loaded)
    click.echo(
        f"{len(loaded)} drugs ({controlled} specially managed), {len(loaded.interactions)} incompatible pairs, "
        f"{len(loaded.indications)} disease ranges, {len(loaded.allergen_groups)} allergen groups: OK"
    )


@formulary.command("drug")
@click.argument("code")
def drug(code: str) -> None:
    """Show one drug by CODE (e.g. C08CA01-tab-5mg)."""
    found = load_formulary().get(code)
    if found is None:
        raise click.ClickException(f"no drug {code!r} in the formulary")
    maximum = f"{found.max_daily_dose} {found.dose_unit}" if found.max_daily_dose is not None else "none on the label"
    click.echo(found.label)
    click.echo(
        f"  ATC {found.atc_code}; {found.form}; pack of {found.pack_size} {found.dispensing_unit}, ¥{found.price_cny}"
    )
    click.echo(f"  max daily dose: {maximum}; usual days supply limit: {found.usual_days_supply_limit}")
    click.echo(
        f"  controlled: {found.controlled_class}; antimicrobial: {found.antimicrobial_grade}; chronic: {found.chronic}"
    )
    click.echo(f"  source: {found.source}")
