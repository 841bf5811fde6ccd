"""A coherent set of records, spelled as the SDK spells them, that passes every check of the simulated
platform: tests and demos change one field to trip one check. Each call returns a fresh dict."""

from __future__ import annotations

from typing import Any

__all__ = [
    "DAY",
    "DOCTOR_CERT",
    "PHARMACIST_CERT",
    "doctor",
    "drug",
    "face_verification",
    "institution",
    "pharmacist",
    "prescription",
    "rating",
    "review",
    "revisit",
]

ORGAN = {"organID": "91310115MA1HXXXX0X", "organName": "示例互联网医院"}
DAY = "2024-06-12"
DOCTOR_CERT = "110101198001010011"
PHARMACIST_CERT = "110101198502020022"
INTERNAL_MEDICINE = "03"  # 诊疗科目 内科


def institution() -> dict[str, Any]:
    return {**ORGAN, "internetPermit": "PDY-2024-001", "registerNumber": "PDY00001", "legalRepresentative": "张三",
            "address": "上海市浦东新区示例路1号", "authority": "浦东新区卫生健康委员会", "beginDate": "2024-01-01",
            "endDate": "2028-12-31", "updateTime": f"{DAY} 08:00:00"}


def doctor(cert: str = DOCTOR_CERT, subject_code: str = INTERNAL_MEDICINE) -> dict[str, Any]:
    return {**ORGAN, "doctorID": f"D-{cert[-4:]}", "doctorName": "李医生", "doctorCertID": cert, "doctorTile": "主治医师",
            "subjectCode": subject_code, "subjectName": "内科", "doctorCertCode": "110310000000001",
            "doctorWorkCode": "110310000000002", "doctorWorkType": "1", "doctorYears": 8,
            "updateTime": f"{DAY} 08:00:00"}


def pharmacist(cert: str = PHARMACIST_CERT) -> dict[str, Any]:
    return {**doctor(cert), "doctorName": "王药师", "doctorTile": "主管药师", "subjectCode": "", "subjectName": "药剂科",
            "doctorWorkType": "2"}


def drug(code: str = "YP001", name: str = "氨氯地平片") -> dict[str, Any]:
    return {**ORGAN, "hospDrugCode": code, "hospDrugName": name, "hospDrugPacking": "5mg*28片",
            "hospDrugManuf": "示例制药", "drugClass": "01", "useFlag": "1", "updateTime": f"{DAY} 07:00:00"}


def face_verification(cert: str = DOCTOR_CERT, at: str = f"{DAY} 09:00:00", *, passed: bool = True) -> dict[str, Any]:
    return {**ORGAN, "verifyID": f"F-{cert[-4:]}-{at}", "doctorCertID": cert, "scene": "接诊", "verifyTime": at,
            "verifyResult": "1" if passed else "0"}


def revisit(buss_id: str = "R-0001", diagnosis_code: str = "I10.x00", *, age: int = 56) -> dict[str, Any]:
    return {**ORGAN, "bussID": buss_id, "doctorCertID": DOCTOR_CERT, "subjectCode": INTERNAL_MEDICINE,
            "patientCertID": "310101196801010033", "age": age, "returnVisitType": "1",
            "originalDiagnosis": "原发性高血压", "thisDiagnosis": "原发性高血压", "mainDiagnoseCode": diagnosis_code,
            "referralFlag": "1", "applyDate": f"{DAY} 09:05:00", "startDate": f"{DAY} 09:10:00",
            "endDate": f"{DAY} 09:25:00", "answerFlag": "1"}


def prescription(recipe_id: str = "RX-0001", buss_id: str = "R-0001", *, icd_code: str = "I10.x00",
                 drug_code: str = "YP001", drug_name: str = "氨氯地平片", use_days: int = 7) -> dict[str, Any]:
    return {**ORGAN, "recipeUniqueID": recipe_id, "recipeID": recipe_id, "bussID": buss_id,
            "doctorCertID": DOCTOR_CERT, "subjectCode": INTERNAL_MEDICINE, "auditDoctorId": "D-0022",
            "auditDoctorCertID": PHARMACIST_CERT, "auditDoctor": "王药师", "patientCertID": "310101196801010033",
            "rationalFlag": "1", "doctorSign": "MEUCIQ...signature", "icdCode": icd_code, "icdName": "原发性高血压",
            "recipeType": "1", "datein": f"{DAY} 09:20:00", "effectivePeriod": 3,
            "orderList": [{"drcode": drug_code, "drname": drug_name, "admission": "口服", "frequency": "qd",
                           "dosage": "5", "drunit": "mg", "dosageTotal": "1", "doseUnit": "盒",
                           "useDays": use_days}]}


def review(recipe_id: str = "RX-0001") -> dict[str, Any]:
    return {**ORGAN, "recipeUniqueID": recipe_id, "auditDoctorCertID": PHARMACIST_CERT, "auditDoctor": "王药师",
            "auditDoctorSign": "MEQCIG...signature", "auditStatus": "1", "rationalFlag": "1",
            "checkDate": f"{DAY} 09:40:00"}


def rating(evaluate_id: str = "E-0001", buss_id: str = "R-0001") -> dict[str, Any]:
    return {**ORGAN, "evaluateID": evaluate_id, "bussID": buss_id, "businessType": "2", "satisfaction": 5,
            "scoring": 10, "evaluationTime": f"{DAY} 10:00:00"}
