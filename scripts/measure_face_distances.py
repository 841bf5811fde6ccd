"""Reproduce the distance table of docs/face-tolerance.md.

    PYTHONPATH=. /work/venv/bin/python scripts/measure_face_distances.py [--full-resolution]

obama.jpg is enrolled through the engine (upload reduced to the working size, HOG on the detect copy);
every other photo, every face of obama_and_biden.jpg and re-encoded copies of obama.jpg (the replays) are
encoded the same way and measured against it. `--full-resolution` adds a column computed the library's
plain way (whole original image, default detector) to show the reduction does not move the distances.
Prints a Markdown table, then one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from hospital.biometrics import engine
from hospital.biometrics.images import RGBImage, decode_rgb
from hospital.biometrics.settings import FaceSettings
from hospital.biometrics.values import FaceTemplate

SETTINGS = FaceSettings(workers=0)
FACES = (
    Path(os.environ.get("HOSPITAL_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared"))
    / "faces"
)


def load(data: bytes) -> RGBImage:
    s = SETTINGS
    return decode_rgb(
        data, None, max_bytes=s.max_upload_bytes, max_pixels=s.max_pixels, long_side=s.working_long_side
    )


def engine_templates(data: bytes) -> list[FaceTemplate]:
    frame = load(data)
    boxes = engine.locate_faces(frame, detect_long_side=SETTINGS.detect_long_side, thorough=True)
    boxes.sort(key=lambda box: box[3])  # left to right
    return [engine.encode_face(frame, box) for box in boxes]


def library_templates(data: bytes) -> list[FaceTemplate]:
    rgb = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    boxes = sorted(engine.face_recognition.face_locations(rgb), key=lambda box: box[3])
    return [FaceTemplate(v) for v in engine.face_recognition.face_encodings(rgb, boxes)]


def _reencoded(transform: Callable[[Image.Image], Image.Image], quality: int = 90) -> bytes:
    original = ImageOps.exif_transpose(Image.open(FACES / "obama.jpg")).convert("RGB")
    out = io.BytesIO()
    transform(original).save(out, "JPEG", quality=quality)
    return out.getvalue()


def _scaled(factor: float) -> Callable[[Image.Image], Image.Image]:
    return lambda im: im.resize(
        (round(im.width * factor), round(im.height * factor)), Image.Resampling.LANCZOS
    )


def samples() -> list[tuple[str, str, bytes]]:
    """(group, label, image bytes) in table order."""

    def photo(name: str) -> bytes:
        return (FACES / name).read_bytes()

    return [
        ("same person", "obama2.jpg", photo("obama2.jpg")),
        ("same person", "obama3.jpg", photo("obama3.jpg")),
        ("cut-down copy", "obama_partial_face.jpg", photo("obama_partial_face.jpg")),
        ("different person", "biden.jpg", photo("biden.jpg")),
        ("group photo", "obama_and_biden.jpg", photo("obama_and_biden.jpg")),
        ("replay", "obama.jpg resized to 50 %, JPEG q90", _reencoded(_scaled(0.5))),
        ("replay", "obama.jpg resized to 75 %, JPEG q90", _reencoded(_scaled(0.75))),
        ("replay", "obama.jpg resized to 640 px wide, JPEG q75", _reencoded(_scaled(640 / 910), 75)),
        ("replay", "obama.jpg re-encoded JPEG q95", _reencoded(lambda im: im, 95)),
        ("replay", "obama.jpg re-encoded JPEG q50", _reencoded(lambda im: im, 50)),
        ("replay", "obama.jpg re-encoded JPEG q20", _reencoded(lambda im: im, 20)),
        (
            "replay",
            "obama.jpg brightness +20 %, q85",
            _reencoded(lambda im: ImageEnhance.Brightness(im).enhance(1.2), 85),
        ),
        (
            "replay",
            "obama.jpg cropped to head and shoulders",
            _reencoded(lambda im: im.crop((150, 50, 760, 700))),
        ),
        ("replay", "obama.jpg resized to 320 px wide, JPEG q75", _reencoded(_scaled(320 / 910), 75)),
        (
            "replay",
            "obama.jpg blurred (Gaussian, radius 2), q90",
            _reencoded(lambda im: im.filter(ImageFilter.GaussianBlur(2))),
        ),
        (
            "replay",
            "obama.jpg rotated 5°, q90",
            _reencoded(lambda im: im.rotate(5, Image.Resampling.BILINEAR)),
        ),
        ("replay", "obama.jpg mirrored", _reencoded(ImageOps.mirror)),
    ]


# Faces of the other photos, identified by eye; obama_and_biden.jpg's faces are sorted left to right.
PEOPLE = [
    ("obama2.jpg", 0, "Obama"),
    ("obama3.jpg", 0, "Obama"),
    ("obama_and_biden.jpg", 1, "Obama"),
    ("biden.jpg", 0, "Biden"),
    ("obama_and_biden.jpg", 0, "Biden"),
    ("obama_and_biden.jpg", 2, "a child"),
]


def pairs() -> list[dict[str, object]]:
    """Every pair among the distinct photos (not derived from obama.jpg): more same/different figures."""
    templates = {name: engine_templates((FACES / name).read_bytes()) for name in {p[0] for p in PEOPLE}}
    rows: list[dict[str, object]] = []
    for i, (name_a, face_a, who_a) in enumerate(PEOPLE):
        for name_b, face_b, who_b in PEOPLE[i + 1 :]:
            distance = templates[name_a][face_a].distance_to(templates[name_b][face_b])
            rows.append(
                {
                    "a": f"{name_a} ({who_a})",
                    "b": f"{name_b} ({who_b})",
                    "same_person": who_a == who_b,
                    "distance": round(distance, 3),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full-resolution", action="store_true")
    args = parser.parse_args()
    enrolled_bytes = (FACES / "obama.jpg").read_bytes()
    enrolled = engine.encode_enrolment(load(enrolled_bytes))
    enrolled_full = library_templates(enrolled_bytes)[0] if args.full_resolution else None
    rows: list[dict[str, object]] = []
    print(
        "| group | probe | face | distance (engine) |"
        + (" distance (library, full size) |" if args.full_resolution else "")
    )
    print("|---|---|---|---|" + ("---|" if args.full_resolution else ""))
    for group, label, data in samples():
        ours = engine_templates(data)
        full = library_templates(data) if enrolled_full is not None else []
        for index, template in enumerate(ours):
            face = f"{index + 1} of {len(ours)}" if len(ours) > 1 else "1"
            row: dict[str, object] = {
                "group": group,
                "probe": label,
                "face": face,
                "distance": round(enrolled.distance_to(template), 3),
            }
            line = f"| {group} | {label} | {face} | {row['distance']:.3f} |"
            if enrolled_full is not None and index < len(full):
                row["distance_full"] = round(enrolled_full.distance_to(full[index]), 3)
                line += f" {row['distance_full']:.3f} |"
            rows.append(row)
            print(line)
    print()
    print("| photo | photo | same person | distance (engine) |")
    print("|---|---|---|---|")
    pair_rows = pairs()
    for row in pair_rows:
        print(
            f"| {row['a']} | {row['b']} | {'yes' if row['same_person'] else 'no'} | {row['distance']:.3f} |"
        )
    print(
        json.dumps(
            {
                "enrolled": "obama.jpg",
                "settings": {
                    "working_long_side": SETTINGS.working_long_side,
                    "detect_long_side": SETTINGS.detect_long_side,
                },
                "rows": rows,
                "pairs": pair_rows,
            }
        )
    )


if __name__ == "__main__":
    main()
