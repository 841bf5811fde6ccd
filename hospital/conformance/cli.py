"""`hospital conformance matrix | prove | run`: the conformance kit's command line (docs/conformance.md)."""

from __future__ import annotations

import json
import sys

import click

__all__ = ["conformance"]


@click.group()
def conformance() -> None:
    """The conformance kit: requirement → rule → test matrix, proof by removal, the scenario suite."""


@conformance.command("matrix")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, a row per requirement.")
def matrix_command(as_json: bool) -> None:
    """Per requirement: the clause, the rules enforcing it and the use cases calling them, the tests marked as
    proving it, and the reviewed verdict (enforced / partly enforced, with what is missing / not built)."""
    from hospital.conformance.matrix import build_matrix, render_text

    rows = build_matrix()
    if as_json:
        json.dump([row.as_json() for row in rows], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        click.echo(render_text(rows))


@conformance.command("prove")
@click.argument("requirements", nargs=-1)
@click.option("--tests", "paths", multiple=True, default=("tests/unit", "tests/conformance"), show_default=True,
              help="Where the marked tests are taken from (repeatable; tests/integration runs on SQLite).")
@click.option("--no-scenarios", is_flag=True, help="Leave the scenario suite out.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: every proof and the totals.")
def prove_command(requirements: tuple[str, ...], paths: tuple[str, ...], no_scenarios: bool, as_json: bool) -> None:
    """Swap each registered rule (of REQUIREMENTS, or all) for a no-op and run the tests marked with its
    requirement: a rule whose removal fails no test is unproven. Exit 0 when every swappable rule is proven,
    1 when one is unproven (or its tests fail to run), 2 when the tests fail even with every rule in place."""
    import time

    from hospital.conformance.prove import prove_rules

    started = time.monotonic()
    proofs, baseline_passed, output = prove_rules(requirements, paths, scenarios=not no_scenarios)
    seconds = round(time.monotonic() - started, 1)
    if not baseline_passed:
        click.echo(output[-3000:], err=True)
        click.echo("the marked tests fail with every rule in place: fix them first", err=True)
        sys.exit(2)
    totals = {v: sum(1 for p in proofs if p.verdict == v) for v in ("proven", "unproven", "not swappable", "error")}
    if as_json:
        json.dump({"proofs": [p.as_json() for p in proofs], "totals": totals, "seconds": seconds}, sys.stdout,
                  ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for proof in proofs:
            click.echo(f"{proof.verdict:<13} {proof.requirement:<9} {proof.rule}  ({proof.tests} tests) {proof.detail}")
        click.echo(f"{len(proofs)} rules: {totals['proven']} proven, {totals['unproven']} unproven, "
                   f"{totals['not swappable']} not swappable, {totals['error']} errors in {seconds} s")
    sys.exit(1 if totals["unproven"] or totals["error"] else 0)


@conformance.command("run")
@click.option("--target", required=True, help="The hospital under test (a URL for HTTP drivers).")
@click.option("--driver", "driver_path", default="hospital.conformance.drivers.http:HttpDriver", show_default=True,
              help="MODULE:CLASS of a hospital.conformance.drivers.Driver.")
@click.option("--only", "only", multiple=True, help="Only the scenarios of these requirement IDs (repeatable).")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "junit"]), default="text",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
def run_command(target: str, driver_path: str, only: tuple[str, ...], output_format: str, output: str | None) -> None:
    """Play the scenario suite against a hospital through a driver; report per requirement: passed, failed
    (expected vs got), not applicable. Exit 0 when none failed, 1 otherwise."""
    import importlib
    import logging

    from hospital.conformance import report
    from hospital.conformance.drivers import Driver
    from hospital.conformance.journey import play_all
    from hospital.conformance.scenarios import load_scenarios

    logging.getLogger("httpx").setLevel(logging.WARNING)
    module_name, _, class_name = driver_path.partition(":")
    driver_class = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(driver_class, type) and issubclass(driver_class, Driver)):
        raise click.BadParameter(f"{driver_path} is not a hospital.conformance.drivers.Driver", param_hint="--driver")
    scenarios = [s for s in load_scenarios() if not only or s.requirement in only]
    results = play_all(driver_class(target), scenarios)
    render = {"text": report.as_text, "json": report.as_json, "junit": report.as_junit}[output_format]
    text = render(results, target)
    if output:
        with open(output, "w", encoding="utf-8") as file:
            file.write(text + "\n")
    else:
        click.echo(text)
    sys.exit(1 if any(r.status == "failed" for r in results) else 0)


@conformance.command("docs")
@click.option("--write", "path", type=click.Path(dir_okay=False), help="Write the page here (docs/conformance.md).")
def docs_command(path: str | None) -> None:
    """Render docs/conformance.md from the matrix and the scenario suite."""
    from hospital.conformance.docs import render_markdown
    from hospital.conformance.matrix import build_matrix
    from hospital.conformance.scenarios import load_scenarios

    text = render_markdown(build_matrix(), load_scenarios())
    if path:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    else:
        click.echo(text, nl=False)
