"""`hospital face compare` on the shared photos."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hospital.biometrics.cli import face


def _compare(enrolled: Path, probe: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(face, ["compare", str(enrolled), str(probe)])
    return result.exit_code, result.stdout, result.stderr


def test_compare_prints_a_match_and_exits_0(faces_dir: Path) -> None:
    code, out, _ = _compare(faces_dir / "obama.jpg", faces_dir / "obama2.jpg")
    assert code == 0
    verdict = json.loads(out)
    assert verdict["match"] is True
    assert 0 < verdict["distance"] <= verdict["tolerance"] < 0.6


def test_compare_prints_no_match_and_exits_1(faces_dir: Path) -> None:
    code, out, _ = _compare(faces_dir / "obama.jpg", faces_dir / "biden.jpg")
    assert code == 1
    verdict = json.loads(out)
    assert verdict["match"] is False and verdict["distance"] > verdict["tolerance"]


def test_compare_exits_2_with_the_reason_when_an_image_shows_several_faces(faces_dir: Path) -> None:
    code, out, err = _compare(faces_dir / "obama.jpg", faces_dir / "obama_and_biden.jpg")
    assert code == 2
    assert out == ""
    assert "several_faces" in err and "obama_and_biden.jpg" in err


def test_compare_exits_2_when_the_enrolled_image_has_no_face(
    faces_dir: Path, faceless_png: bytes, tmp_path: Path
) -> None:
    blank = tmp_path / "gradient.png"
    blank.write_bytes(faceless_png)
    code, _, err = _compare(blank, faces_dir / "obama2.jpg")
    assert code == 2
    assert "no_face" in err
