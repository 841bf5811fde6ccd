from __future__ import annotations

import base64
import os

import pytest

from hospital.config import ConfigurationError, Settings, load_settings
from hospital.core.crypto import FieldCipher, SealedValueError

pytestmark = pytest.mark.requirement("INS-04", "REC-03")

STRONG_KEY = base64.b64encode(os.urandom(32)).decode()


def test_production_refuses_the_demo_field_key() -> None:
    with pytest.raises(ConfigurationError, match="HOSPITAL_FIELD_KEY"):
        load_settings({"HOSPITAL_ENV": "production", "HOSPITAL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/y"}).check()


def test_production_refuses_the_demo_key_passphrase() -> None:
    env = {"HOSPITAL_ENV": "production", "HOSPITAL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/y",
           "HOSPITAL_FIELD_KEY": STRONG_KEY}
    with pytest.raises(ConfigurationError, match="PASSPHRASE"):
        load_settings(env).check()


PRODUCTION = {"HOSPITAL_ENV": "production", "HOSPITAL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/y?ssl=require",
              "HOSPITAL_FIELD_KEY": STRONG_KEY, "HOSPITAL_KEY_PASSPHRASE": "a long secret from the vault",
              "HOSPITAL_PUBLIC_URL": "https://hospital.example.cn", "HOSPITAL_TLS_PROXY": "nginx"}


def test_production_with_its_own_secrets_and_tls_starts() -> None:
    load_settings(PRODUCTION).check()
    own = {k: v for k, v in PRODUCTION.items() if k != "HOSPITAL_TLS_PROXY"}
    load_settings({**own, "HOSPITAL_TLS_CERT": "/etc/hospital/cert.pem", "HOSPITAL_TLS_KEY": "/etc/hospital/key.pem"}).check()
    assert load_settings(PRODUCTION).behind_tls and not Settings().behind_tls


@pytest.mark.parametrize(("change", "message"), [
    ({"HOSPITAL_PUBLIC_URL": "http://hospital.example.cn"}, "must be https"),
    ({"HOSPITAL_TLS_PROXY": ""}, "HOSPITAL_TLS_PROXY"),
    ({"HOSPITAL_TLS_CERT": "/etc/hospital/cert.pem", "HOSPITAL_TLS_PROXY": ""}, "HOSPITAL_TLS_PROXY"),
    ({"HOSPITAL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/y"}, "ssl=require"),
    ({"HOSPITAL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/y?ssl=prefer"}, "ssl=require"),
    ({"HOSPITAL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/y?ssl=disable"}, "ssl=require"),
])
def test_production_refuses_a_connection_without_tls(change: dict[str, str], message: str) -> None:
    """REC-03: an http public URL (unless TLS is terminated before it), no TLS terminator named, or PostgreSQL
    without TLS: production does not start."""
    with pytest.raises(ConfigurationError, match=message):
        load_settings({**PRODUCTION, **change}).check()


def test_demo_and_test_modes_may_run_on_plain_http() -> None:
    load_settings({"HOSPITAL_PUBLIC_URL": "http://127.0.0.1:8000"}).check()


def test_storage_outside_the_allowed_regions_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="INS-04"):
        Settings(storage_region="us-east-1").check()


def test_the_demo_defaults_are_a_sqlite_file_in_the_data_dir(tmp_path: object) -> None:
    settings = load_settings({"HOSPITAL_DATA_DIR": "/tmp/x"})
    assert settings.resolved_database_url == "sqlite+aiosqlite:////tmp/x/hospital.db"


def test_a_sealed_field_opens_only_in_its_own_context() -> None:
    cipher = FieldCipher(os.urandom(32))
    sealed = cipher.seal_text("11010519491231002X", context="patient.id_number")
    assert b"1101051949" not in sealed
    assert cipher.open_text(sealed, context="patient.id_number") == "11010519491231002X"
    with pytest.raises(SealedValueError):
        cipher.open_text(sealed, context="patient.phone")


def test_keyed_hashes_are_stable_and_depend_on_the_key() -> None:
    key = os.urandom(32)
    assert FieldCipher(key).keyed_hash("x", context="c") == FieldCipher(key).keyed_hash("x", context="c")
    assert FieldCipher(key).keyed_hash("x", context="c") != FieldCipher(os.urandom(32)).keyed_hash("x", context="c")


def test_a_database_outside_the_allowed_hosts_is_refused() -> None:
    env = {"HOSPITAL_DATABASE_URL": "postgresql+asyncpg://u@db.example.com:5432/h"}
    with pytest.raises(ConfigurationError, match="INS-04"):
        load_settings(env).check()
    load_settings({**env, "HOSPITAL_ALLOWED_STORAGE_HOSTS": "*.example.com"}).check()
    load_settings({"HOSPITAL_DATABASE_URL": "postgresql+asyncpg://u@10.1.2.3/h",
                   "HOSPITAL_ALLOWED_STORAGE_HOSTS": "10.0.0.0/8"}).check()
    load_settings({"HOSPITAL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/h"}).check()
