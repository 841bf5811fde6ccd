"""Replicas that share a data directory and start together end up with one token-signing key: a token one
issues verifies at the other (hospital/identity/tokens.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from hospital.identity import tokens


def public_numbers(key: ec.EllipticCurvePrivateKey) -> ec.EllipticCurvePublicNumbers:
    return key.public_key().public_numbers()


def test_a_replica_that_loses_the_race_uses_the_winners_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keys" / "token-signing.pem"
    real_link = os.link
    winner: list[ec.EllipticCurvePrivateKey] = []

    def other_replica_first(source: str | Path, target: str | Path) -> None:
        # Between this process's check and its link, the other replica writes its own key.
        monkeypatch.setattr(os, "link", real_link)
        winner.append(tokens.load_or_create_signing_key(path))
        real_link(source, target)

    monkeypatch.setattr(os, "link", other_replica_first)
    mine = tokens.load_or_create_signing_key(path)
    assert public_numbers(mine) == public_numbers(winner[0])
    assert public_numbers(tokens.load_or_create_signing_key(path)) == public_numbers(mine)
    assert sorted(p.name for p in path.parent.iterdir()) == ["token-signing.pem"]  # no partial file left
