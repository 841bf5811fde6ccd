"""The methods' field table and `missing_required`, the check behind the platform's -99."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from connectors.supervision.gateway.methods import (
    DATA,
    UnknownMethod,
    all_methods,
    business_key,
    is_empty,
    method_spec,
    missing_required,
)
from connectors.supervision.simulator import examples

pytestmark = pytest.mark.requirement("SUP-02")

DOC_METHODS = {
    "uploadDrugCatalogue", "uploadConsultIndicators", "uploadReferralIndicators", "uploadElectMedicalRecord",
    "uploadRecipeIndicators", "uploadRecipeVerificationIndicators", "uploadRecipeAuditIndicators",
    "uploadRecipeCirculationIndicators", "uploadBusinessInfoAfter", "pushMedicalDispute", "uploadAppointRecord",
    "uploadMeetClinicIndicators", "openDoctorBusiness",
}


def test_every_method_named_in_the_protocol_doc_is_in_the_table() -> None:
    assert set(all_methods()) >= DOC_METHODS


def test_every_field_row_belongs_to_a_listed_method_and_names_its_source() -> None:
    with (DATA / "fields.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["method"] for row in rows} == set(all_methods())
    assert all(row["source"] for row in rows)
    assert {row["required"] for row in rows} <= {"yes", "no", "if_minor", "if_doctor", "one_of:signature"}
    assert all(Path(DATA / name).exists() for name in ("methods.csv", "fields.csv"))


def test_every_method_has_a_business_id() -> None:
    assert all(spec.id_fields for spec in all_methods().values())


def test_field_names_keep_the_sdk_spelling() -> None:
    recipe = method_spec("uploadRecipeIndicators").field_names
    assert {"recipeUniqueID", "CAInfo", "icdCode", "datein", "orderList[].drcode", "orderList[].dosageTotal"} <= set(
        recipe
    )
    assert {"doctorTileID", "doctorCertID", "doctorWorkType"} <= set(method_spec("uploadDoctorIndicators").field_names)


def test_a_complete_prescription_misses_nothing() -> None:
    assert missing_required("uploadRecipeIndicators", {**examples.prescription(), "unitID": "U1"}) == []


def test_blank_and_null_fields_are_named_in_table_order() -> None:
    record = {**examples.prescription(), "unitID": "U1", "icdName": "  ", "icdCode": None}
    assert missing_required("uploadRecipeIndicators", record) == ["icdCode", "icdName"]


def test_an_absent_field_is_missing_and_zero_is_a_value() -> None:
    record = {**examples.prescription(), "effectivePeriod": 0}
    assert missing_required("uploadRecipeIndicators", record) == ["unitID"]
    assert not is_empty(0)
    assert is_empty([])


def test_an_empty_item_field_is_named_with_its_index() -> None:
    record = {**examples.prescription(), "unitID": "U1"}
    second = {**record["orderList"][0], "drcode": ""}
    record["orderList"] = [record["orderList"][0], second]
    assert missing_required("uploadRecipeIndicators", record) == ["orderList[1].drcode"]


def test_a_prescription_without_items_misses_its_order_list() -> None:
    record = {**examples.prescription(), "unitID": "U1", "orderList": []}
    assert missing_required("uploadRecipeIndicators", record) == ["orderList"]


def test_either_signature_field_satisfies_the_signature_group() -> None:
    record = {**examples.prescription(), "unitID": "U1", "doctorSign": ""}
    assert missing_required("uploadRecipeIndicators", record) == ["CAInfo/doctorSign"]
    assert missing_required("uploadRecipeIndicators", {**record, "CAInfo": "ca-file-1"}) == []


def test_the_guardian_is_required_only_for_a_child_under_six() -> None:
    adult = {**examples.revisit(age=30), "unitID": "U1"}
    child = {**examples.revisit(age=5), "unitID": "U1"}
    assert missing_required("uploadReferralIndicators", adult) == []
    assert missing_required("uploadReferralIndicators", child) == ["guardianCertID", "guardianName", "guardianMobile"]


def test_the_practice_scope_is_required_of_a_doctor_not_of_a_pharmacist() -> None:
    assert missing_required("uploadDoctorIndicators", {**examples.pharmacist(), "unitID": "U1"}) == []
    doctor = {**examples.doctor(), "unitID": "U1", "subjectCode": ""}
    assert missing_required("uploadDoctorIndicators", doctor) == ["subjectCode"]


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(UnknownMethod, match="uploadNothing"):
        missing_required("uploadNothing", {})


def test_the_business_key_carries_the_version_where_the_method_has_one() -> None:
    assert business_key("uploadDrugCatalogue", examples.drug("YP9")) == ("YP9", "2024-06-12 07:00:00")
    assert business_key("uploadRecipeIndicators", examples.prescription("RX-9")) == ("RX-9", "")
    assert business_key("openDoctorBusiness", {"doctorID": "D1", "businessType": "2", "applyDate": "d",
                                                "businessStatus": "0"}) == ("D1|2", "d|0")
    # A state that moves within one second is still a new version (a consult accepted and ended at once).
    begun = {"bussID": "V1", "updateTime": "2024-06-12 09:10:00", "consultStatus": "1"}
    assert business_key("uploadConsultIndicators", begun) == ("V1", "1|2024-06-12 09:10:00")
    assert business_key("uploadConsultIndicators", {**begun, "consultStatus": "2"})[1] != business_key(
        "uploadConsultIndicators", begun)[1]


def test_a_revocation_in_the_second_of_another_staff_change_is_a_version_of_its_own() -> None:
    """The platform keeps one record per business ID and version: were the certificate not a version key, a
    device revoked in the second the clinician's record last changed would be dropped as a duplicate (RX-05)."""
    admitted = {"doctorID": "S1", "updateTime": "2026-12-04 04:38:22"}
    revoked = {**admitted, "caCertSN": "5F1A", "caCertStatus": "2"}
    assert business_key("uploadDoctorIndicators", admitted) == ("S1", "2026-12-04 04:38:22|")
    assert business_key("uploadDoctorIndicators", revoked) == ("S1", "2026-12-04 04:38:22|5F1A")
