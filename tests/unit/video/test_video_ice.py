from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hospital.video.ice import IceSettings, browser_ice_servers, hospital_rtc_configuration, turn_rest_credentials

REPO = Path(__file__).resolve().parents[3]


def test_turn_credentials_follow_the_turn_rest_api():
    # Expected value from: echo -n "1700000000:u1" | openssl dgst -sha1 -hmac s3cret -binary | base64
    username, credential = turn_rest_credentials("s3cret", "u1", ttl_s=3600, now=1_699_996_400)

    assert username == "1700000000:u1"
    assert credential == "4UcptkFZVgURM7k6kAX3uCsw7gE="


def test_a_turn_user_id_with_a_colon_is_refused():
    with pytest.raises(ValueError):
        turn_rest_credentials("s3cret", "a:b", ttl_s=60)


def test_the_browser_gets_stun_and_turn_with_minted_credentials():
    settings = IceSettings(
        stun_urls=("stun:turn.example.org:3478",),
        turn_urls=("turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"),
        turn_secret="s3cret",
        turn_ttl_s=600,
    )

    servers = browser_ice_servers(settings, "p-42", now=1000)

    assert servers[0] == {"urls": ["stun:turn.example.org:3478"]}
    assert servers[1]["urls"] == ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]
    assert servers[1]["username"] == "1600:p-42"
    assert servers[1]["credential"] == turn_rest_credentials("s3cret", "p-42", ttl_s=600, now=1000)[1]


def test_turn_without_a_secret_or_with_a_wrong_scheme_is_a_configuration_error():
    with pytest.raises(ValueError):
        IceSettings(turn_urls=("turn:turn.example.org",))
    with pytest.raises(ValueError):
        IceSettings(stun_urls=("http://turn.example.org",))


def test_the_hospital_peer_never_falls_back_to_a_public_stun_server():
    configuration = hospital_rtc_configuration(IceSettings())

    assert configuration.iceServers == []


def test_the_hospital_peer_uses_turn_only_when_configured_to():
    settings = IceSettings(turn_urls=("turn:turn.example.org:3478",), turn_secret="s3cret")

    assert hospital_rtc_configuration(settings).iceServers == []
    relayed = hospital_rtc_configuration(dataclasses.replace(settings, hospital_uses_turn=True))
    assert [s.urls for s in relayed.iceServers or []] == ["turn:turn.example.org:3478"]


def test_the_shipped_coturn_config_uses_the_shared_secret_and_refuses_internal_peers():
    lines = {
        line.strip()
        for line in (REPO / "deploy/coturn/turnserver.conf").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert "use-auth-secret" in lines
    assert any(line.startswith("static-auth-secret=") for line in lines)
    assert "no-loopback-peers" in lines or not any(line.startswith("allow-loopback-peers") for line in lines)
    assert "denied-peer-ip=10.0.0.0-10.255.255.255" in lines
    assert "denied-peer-ip=127.0.0.0-127.255.255.255" in lines
    assert "fingerprint" in lines
