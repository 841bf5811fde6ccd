"""INS-03 and INS-04 at start: the reviewed residency table, every storage and network target named in the
refusal, and production's own disclosure file."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from hospital.app import create_app
from hospital.config import ConfigurationError, Settings, load_settings
from hospital.core.residency import load_residency, residency
from hospital.institution.reference import DISCLOSURE_FILE, require_own_disclosure

STRONG_KEY = base64.b64encode(os.urandom(32)).decode()


def production(tmp_path: Path, **env: str) -> Settings:
    """Production settings that satisfy REC-03 (https public URL, TLS terminated by a named proxy, PostgreSQL
    over TLS), so each test reaches the INS-03/INS-04 refusal it is about."""
    return load_settings({"HOSPITAL_ENV": "production", "HOSPITAL_DATA_DIR": str(tmp_path),
                          "HOSPITAL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/h?ssl=require",
                          "HOSPITAL_PUBLIC_URL": "https://hospital.example.cn", "HOSPITAL_TLS_PROXY": "nginx",
                          "HOSPITAL_FIELD_KEY": STRONG_KEY, "HOSPITAL_KEY_PASSPHRASE": "a long secret", **env})


def own_disclosure(tmp_path: Path) -> None:
    data = json.loads(DISCLOSURE_FILE.read_text(encoding="utf-8"))
    data["complaints"]["phone"] = "0755-1234-5678"
    (tmp_path / "disclosure.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_every_row_of_the_reviewed_table_loads_with_its_source() -> None:
    table = load_residency()
    assert "cn" in table.allowed_regions and "us-east-1" not in table.allowed_regions
    assert "ap-hongkong" not in table.allowed_regions and "ap-singapore" not in table.allowed_regions


def test_a_foreign_region_is_refused_even_when_the_operator_allows_it() -> None:
    with pytest.raises(ConfigurationError, match=r"INS-04.*us-east-1"):
        load_settings({"HOSPITAL_STORAGE_REGION": "us-east-1", "HOSPITAL_ALLOWED_STORAGE_REGIONS": "us-east-1"}).check()
    load_settings({"HOSPITAL_STORAGE_REGION": "cn-shanghai",
                   "HOSPITAL_ALLOWED_STORAGE_REGIONS": "cn,cn-shanghai"}).check()


@pytest.mark.parametrize(("variable", "value", "target"), [
    ("HOSPITAL_DATABASE_URL", "postgresql+asyncpg://u@hospital.abc123.us-east-1.rds.amazonaws.com:5432/h", "database"),
    ("HOSPITAL_DATABASE_URL", "postgresql+asyncpg://u@pg.database.azure.com/h", "database"),
    ("HOSPITAL_TURN_URLS", "turn:global.turn.twilio.com:3478?transport=udp", "TURN server"),
    ("HOSPITAL_SUPERVISION_URL", "https://platform.eu-west-1.example.org/api", "supervision platform endpoint"),
    ("HOSPITAL_VIDEO_RECORDING_DIR", "s3://recordings.s3.amazonaws.com/hospital", "recordings directory"),
    ("HOSPITAL_DATA_DIR", "s3://oss-us-west-1.aliyuncs.com/hospital", "blob store"),
])
def test_each_storage_and_network_target_abroad_is_refused_by_name(variable: str, value: str, target: str) -> None:
    env = {variable: value, "HOSPITAL_ALLOWED_STORAGE_HOSTS": "*.amazonaws.com,*.azure.com"}  # the operator's list
    with pytest.raises(ConfigurationError, match=f"INS-04: the {target} ") as refused:
        load_settings(env).check()
    assert "residency.csv" in str(refused.value)


def test_mainland_targets_start() -> None:
    load_settings({"HOSPITAL_DATABASE_URL": "postgresql+asyncpg://u@db.cn-north-1.rds.amazonaws.com.cn/h",
                   "HOSPITAL_ALLOWED_STORAGE_HOSTS": "*.amazonaws.com.cn",
                   "HOSPITAL_TURN_URLS": "turn:turn.hospital.example.cn:3478",
                   "HOSPITAL_SUPERVISION_URL": "http://127.0.0.1:8090"}).check()
    assert residency().foreign("campus-db.hospital.cn") is None


def test_production_refuses_to_start_with_the_demo_disclosure(tmp_path: Path) -> None:
    settings = production(tmp_path)
    with pytest.raises(ConfigurationError, match="INS-03"):
        create_app(settings)  # no disclosure file of its own: no silent fallback to the demo's
    (tmp_path / "disclosure.json").write_bytes(DISCLOSURE_FILE.read_bytes())
    with pytest.raises(ConfigurationError, match=r"INS-03.*demo"):
        require_own_disclosure(settings)  # a copy of the demo's
    own_disclosure(tmp_path)
    require_own_disclosure(settings)
    require_own_disclosure(load_settings({"HOSPITAL_DATA_DIR": str(tmp_path / "none")}))  # the demo may use its own


def test_production_with_a_database_on_a_foreign_cloud_does_not_start(tmp_path: Path) -> None:
    own_disclosure(tmp_path)
    settings = production(tmp_path, HOSPITAL_DATABASE_URL="postgresql+asyncpg://u@h.cluster-x.rds.amazonaws.com/h?ssl=require",
                          HOSPITAL_ALLOWED_STORAGE_HOSTS="*.amazonaws.com")
    with pytest.raises(ConfigurationError, match=r"INS-04: the database 'h\.cluster-x\.rds\.amazonaws\.com'"):
        create_app(settings)
