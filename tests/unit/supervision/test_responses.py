"""Classifying the platform's answer: accepted, retry, or fix the data (supervision-gateway.md, Response)."""

from __future__ import annotations

import json

import pytest

from connectors.supervision.gateway.responses import (
    Accepted,
    FixData,
    Retry,
    classify,
    platform_answer,
)


def answer(code: int, msg_code: int | None = None, msg: str = "") -> str:
    return json.dumps(platform_answer(code, msg_code, msg), ensure_ascii=False)


def test_code_200_with_msg_code_200_is_accepted() -> None:
    assert isinstance(classify(200, answer(200, 200, "成功")), Accepted)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_server_errors_are_retried(status: int) -> None:
    outcome = classify(status, "Service Unavailable")
    assert isinstance(outcome, Retry)
    assert str(status) in outcome.reason


def test_the_gateway_busy_is_retried() -> None:
    outcome = classify(200, answer(-1, msg="系统繁忙"))
    assert isinstance(outcome, Retry) and outcome.code == -1


def test_an_expired_request_is_retried() -> None:
    outcome = classify(200, answer(40011, msg="request expired"))
    assert isinstance(outcome, Retry) and outcome.code == 40011


def test_minus_99_lists_the_empty_fields() -> None:
    outcome = classify(200, answer(200, -99, "icdCode|orderList[0].drcode"))
    assert isinstance(outcome, FixData)
    assert outcome.fields == ("icdCode", "orderList[0].drcode")


def test_minus_99_fields_are_read_after_a_label() -> None:
    outcome = classify(200, answer(200, -99, "必填字段为空：icdCode|icdName"))
    assert isinstance(outcome, FixData) and outcome.fields == ("icdCode", "icdName")


@pytest.mark.parametrize(("code", "msg_code"), [(200, -1), (200, -98), (40001, None)])
def test_rejections_that_need_the_data_fixed_are_not_retried(code: int, msg_code: int | None) -> None:
    outcome = classify(200, answer(code, msg_code, "why"))
    assert isinstance(outcome, FixData)
    assert not outcome.is_configuration
    assert outcome.msg == "why"


@pytest.mark.parametrize("code", [40004, 40007, 40010])
def test_credential_ip_and_signature_refusals_are_configuration_problems(code: int) -> None:
    outcome = classify(200, answer(code, msg="no"))
    assert isinstance(outcome, FixData) and outcome.is_configuration and outcome.code == code


def test_an_unreadable_2xx_is_retried_and_an_unreadable_4xx_is_not() -> None:
    assert isinstance(classify(200, "<html>proxy</html>"), Retry)
    assert isinstance(classify(404, "<html>not found</html>"), FixData)


def test_the_raw_answer_is_kept_for_the_record() -> None:
    text = answer(200, 200, "成功")
    assert classify(200, text).raw == text


def test_a_replayed_nonce_is_retried_under_its_own_code() -> None:
    outcome = classify(200, answer(40012, msg="X-Ca-Nonce was already used"))
    assert isinstance(outcome, Retry) and (outcome.code, outcome.reason) == (40012, "nonce replayed")


def test_a_minus_99_keeps_the_records_the_platform_names() -> None:
    named = [{"index": 3, "businessId": "R-9", "fields": ["icdCode"]}]
    outcome = classify(200, json.dumps(platform_answer(200, -99, "icdCode", named)))
    assert isinstance(outcome, FixData) and outcome.fields == ("icdCode",) and outcome.records == tuple(named)
