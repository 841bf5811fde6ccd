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
    """Validate the tables in DIRECTORY (default: the bundled ones) and count what they hold.

    Refuses a row without a cited source, a specially managed class its ATC code contradicts (the national lists
    in controlled_substances.csv), a missing single or daily maximum without the "no label maximum" note; lists
    the rows without a limit, which the pharmacist sees as a warning on every prescription of them."""
    try:
        loaded = load_formulary(directory)
    except FormularyError as exc:
        raise click.ClickException(str(exc)) from exc
    controlled = sum(d.is_controlled for d in loaded)
    for d in loaded:
        missing = [name for name, value in (("single", d.max_single_dose), ("daily", d.max_daily_dose))
                   if value is None]
        if missing:
            click.echo(f"no {' or '.join(missing)} maximum on the label (the pharmacist is warned): {d.code}")
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
    def limit(value: object) -> str:
        return f"{value} {found.dose_unit}" if value is not None else "none on the label"

    click.echo(found.label)
    click.echo(
        f"  ATC {found.atc_code}; {found.form}; pack of {found.pack_size} {found.dispensing_unit}, ¥{found.price_cny}"
    )
    click.echo(f"  max single dose: {limit(found.max_single_dose)}; max daily dose: {limit(found.max_daily_dose)}"
               + (f"; max weekly dose: {limit(found.max_weekly_dose)}" if found.max_weekly_dose else ""))
    click.echo(f"  frequencies: {' '.join(sorted(found.frequencies))}"
               + (f" (prn at most {found.prn_max_per_day} a day)" if found.prn_max_per_day else "")
               + f"; usual days supply limit: {found.usual_days_supply_limit}")
    click.echo(
        f"  controlled: {found.controlled_class}; antimicrobial: {found.antimicrobial_grade}; chronic: {found.chronic}"
    )
    click.echo(f"  high alert: {found.high_alert}; pregnancy: {found.pregnancy or '-'}; "
               f"lactation: {found.lactation or '-'}")
    click.echo(f"  source: {found.source}")
