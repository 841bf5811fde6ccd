"""`gateway encrypt|decrypt` for vendors."""

from __future__ import annotations

from click.testing import CliRunner

from connectors.supervision.gateway.cli import gateway

SECRET = "bbf1dd188b8b4629853f06f118d11e4a"


def test_encrypt_prints_the_sdk_body_for_the_vector() -> None:
    result = CliRunner().invoke(gateway, ["encrypt", "--app-secret", SECRET], input=b"[1]")
    assert result.exit_code == 0
    assert result.output == "49a9a1cb6403aa7ca5d7be3287b0dc6b\n"


def test_decrypt_reverses_encrypt_byte_for_byte() -> None:
    plaintext = '[{"drname":"氨氯地平片"}]'.encode()
    runner = CliRunner()
    hex_body = runner.invoke(gateway, ["encrypt", "--app-secret", SECRET], input=plaintext).output
    result = runner.invoke(gateway, ["decrypt", "--app-secret", SECRET], input=hex_body)
    assert result.exit_code == 0
    assert result.stdout_bytes == plaintext


def test_decrypt_refuses_bad_hex_with_a_message_and_a_non_zero_exit() -> None:
    result = CliRunner().invoke(gateway, ["decrypt", "--app-secret", SECRET], input="xyz")
    assert result.exit_code != 0
    assert "not hex" in result.output


def test_a_short_secret_is_refused() -> None:
    result = CliRunner().invoke(gateway, ["encrypt", "--app-secret", "abcd"], input=b"[1]")
    assert result.exit_code != 0
    assert "32 hex" in result.output


def test_the_simulator_refuses_a_malformed_secret_before_serving() -> None:
    from connectors.supervision.simulator.cli import supervision_sim

    result = CliRunner().invoke(supervision_sim, ["--unit-id", "U", "--app-key", "K", "--app-secret", "abcd"])
    assert result.exit_code == 2
    assert "32 hex" in result.output
