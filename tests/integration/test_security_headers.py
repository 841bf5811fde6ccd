"""Every response carries the browser security headers (REC-03, SEC-01): a content security policy allowing only the
hospital's own scripts and never framing, no referrer, nosniff; HSTS only when the hospital is reached over TLS."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from hospital.app import create_app
from hospital.config import Settings
from hospital.context import HospitalContext
from tests.helpers import login_as


def check_headers(response: Any, what: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, f"{what}: {csp!r}"
    assert response.headers.get("referrer-policy") == "no-referrer", what
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("x-frame-options") == "DENY", what


async def test_every_kind_of_response_carries_the_security_headers(client: AsyncTestClient[Any], demo: None) -> None:
    responses = {
        "a page": await client.get("/login"),
        "a script": await client.get("/static/js/page.js"),
        "public JSON": await client.get("/api/institution/"),
        "a 401 problem": await client.get("/api/me"),
        "a 404": await client.get("/no/such/page"),
        "a 400 problem": await client.post("/api/patients", content=b"[" * 100 + b"]" * 100,
                                           headers={"content-type": "application/json"}),
        "an authenticated read": await client.get("/api/me", headers=await login_as(client, "patient")),
        "the API schema": await client.get("/schema/openapi.json"),
    }
    for what, response in responses.items():
        check_headers(response, what)
        assert "strict-transport-security" not in response.headers, f"{what}: HSTS over plain http"
    page_policy = responses["a page"].headers["content-security-policy"]
    assert "script-src 'self'" in page_policy and "unsafe-inline" not in page_policy
    assert "default-src 'self'" in page_policy and "connect-src 'self' wss://testserver.local " in page_policy


async def test_hsts_is_sent_when_the_hospital_is_reached_over_tls(settings: Settings, ctx: HospitalContext,
                                                                  demo: None) -> None:
    over_tls = settings.with_(public_base_url="https://hospital.example.cn")
    async with AsyncTestClient(app=create_app(over_tls, ctx)) as client:
        for path in ("/login", "/api/institution/", "/api/me"):
            response = await client.get(path)
            check_headers(response, path)
            assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains", path
