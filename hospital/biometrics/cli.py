"""`hospital face …`: the face engine from the command line, in-process (no worker pool).

    hospital face compare ENROLLED_IMAGE PROBE_IMAGE

prints one JSON object and exits 0 on a match, 1 on no match, 2 when an image is refused (no face, several
faces, a face too small to enrol, not a JPEG/PNG/WebP image); the reason goes to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import click

from hospital.biometrics.pool import FacePool
from hospital.biometrics.settings import FaceSettings
from hospital.biometrics.values import Verification
from hospital.core.errors import HospitalError

__all__ = ["face"]

_DEFAULTS = FaceSettings(workers=0)


@click.group()
def face() -> None:
    """Face enrolment and verification (FACE-01, FACE-02)."""


@face.command()
@click.argument("enrolled_image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("probe_image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tolerance",
    type=float,
    default=_DEFAULTS.tolerance,
    show_default=True,
    help="Largest distance that still matches.",
)
@click.option(
    "--replay-distance",
    type=float,
    default=_DEFAULTS.replay_distance,
    show_default=True,
    help="Closer than this is the enrolment photo itself, refused as a replay.",
)
def compare(enrolled_image: Path, probe_image: Path, tolerance: float, replay_distance: float) -> None:
    """Enrol ENROLLED_IMAGE and verify PROBE_IMAGE against it."""
    try:
        settings = dataclasses.replace(_DEFAULTS, tolerance=tolerance, replay_distance=replay_distance)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    verification = asyncio.run(_compare(settings, enrolled_image, probe_image))
    click.echo(
        json.dumps(
            {
                "match": verification.match,
                "distance": round(verification.distance, 4),
                "tolerance": verification.tolerance,
                "reason": str(verification.reason),
            }
        )
    )
    if verification.reason != "match":
        click.echo(f"{verification.reason}: distance {verification.distance:.4f}", err=True)
    raise SystemExit(0 if verification.match else 1)


async def _compare(settings: FaceSettings, enrolled_image: Path, probe_image: Path) -> Verification:
    async with FacePool(settings) as pool:
        with _refusal_exits(enrolled_image):
            template = await pool.encode_enrolment(enrolled_image.read_bytes(), None)
        with _refusal_exits(probe_image):
            return await pool.verify(template.to_bytes(), probe_image.read_bytes(), None)


@contextlib.contextmanager
def _refusal_exits(image: Path) -> Iterator[None]:
    """Exit 2, naming the image and the reason on stderr, when the engine refuses it."""
    try:
        yield
    except HospitalError as exc:
        click.echo(f"{image}: {exc.extra.get('reason', type(exc).__name__)}: {exc.detail}", err=True)
        raise SystemExit(2) from exc
