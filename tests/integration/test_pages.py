"""The page router: every page is a public HTML shell naming the hospital, in Chinese unless English is
asked for, with a strict content security policy; static files are served locally, without a token."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.web.pages import PAGES

pytestmark = pytest.mark.requirement("INS-01", "QA-02")

SOME_ID = str(uuid.uuid4())


def _url(path: str) -> str:
    return re.sub(r"\{[a-z_]+:uuid\}", SOME_ID, path)


async def test_every_page_is_served_without_a_token_and_names_the_hospital(client: AsyncTestClient[Any],
                                                                          demo: None) -> None:
    for page in PAGES:
        response = await client.get(_url(page.path))
        assert response.status_code == 200, (page.path, response.text)
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert '<html lang="zh-CN">' in html
        assert 'data-testid="hospital-name">示范互联网医院</a>' in html
        assert f'src="/static/js/pages/{page.name}.js"' in html
        assert f'data-area="{page.area}"' in html
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'self'" in policy
        assert "<script>" not in html  # nothing inline: the only script tags load modules or carry JSON


def test_every_page_has_its_template_and_module() -> None:
    from hospital.web.i18n import FRONTEND_DIR

    for page in PAGES:
        assert (FRONTEND_DIR / "templates" / "pages" / f"{page.name}.html").exists(), page.name
        assert (FRONTEND_DIR / "static" / "js" / "pages" / f"{page.name}.js").exists(), page.name


async def test_english_is_served_when_asked_for_by_query_or_cookie(client: AsyncTestClient[Any], demo: None) -> None:
    by_query = (await client.get("/login?lang=en")).text
    assert '<html lang="en">' in by_query and "<title>Log in · 示范互联网医院</title>" in by_query
    client.cookies.set("lang", "en")
    by_cookie = (await client.get("/disclosure")).text
    assert '<html lang="en">' in by_cookie
    assert '"disclosure.licence": "Licence to practise' in by_cookie  # the catalogue the scripts read


async def test_the_call_page_renders_through_the_base_template_in_either_language(client: AsyncTestClient[Any],
                                                                                 demo: None) -> None:
    """The video call page of a visit is one of the page router's pages, not a file of its own: the shared
    header with the language switch, the catalogue its module reads, and its texts in the page language."""
    assert "/visits/{visit_id:uuid}/call" in {page.path for page in PAGES}
    url = f"/visits/{SOME_ID}/call"
    chinese = (await client.get(url)).text
    assert 'class="site-header"' in chinese and 'id="lang-switch"' in chinese and 'id="i18n-catalogue"' in chinese
    assert "<title>视频问诊 · 示范互联网医院</title>" in chinese
    assert 'src="/static/js/pages/call.js"' in chinese and 'data-call-state="loading"' in chinese
    assert ">离开通话</button>" in chinese and "Leave" not in chinese
    english = (await client.get(f"{url}?lang=en")).text
    assert '<html lang="en">' in english and "<title>Video consultation · 示范互联网医院</title>" in english
    assert ">Leave the call</button>" in english and "离开" not in english
    assert '"video.live": "Live"' in english  # the status lines call.js shows, in the page language


async def test_an_expired_licence_puts_a_banner_on_every_page(client: AsyncTestClient[Any], demo: None, ctx: Any,
                                                              clock: Any) -> None:
    clock.advance(days=365 * 6)  # past the demo licence's validity
    html = (await client.get("/")).text
    assert 'class="banner banner-stop" role="alert"' in html and "INS-01" in html


async def test_a_service_stop_is_announced_on_every_page_with_its_reason(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    from tests.helpers import stop_service

    response = await stop_service(client, session, ctx, "信息系统升级维护", "information_system")
    assert response.status_code == 200, response.text
    html = (await client.get("/patient/register")).text
    assert "QA-02" in html and "信息系统升级维护" in html


async def test_static_modules_and_styles_are_served_locally(client: AsyncTestClient[Any]) -> None:
    for path, kind in (("/static/js/api.js", "javascript"), ("/static/css/app.css", "text/css"),
                       ("/static/js/pages/disclosure.js", "javascript")):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert kind in response.headers["content-type"]
    assert (await client.get("/static/../hospital/config.py")).status_code == 404


async def test_the_api_still_answers_json_problems_beside_the_pages(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_administrator_reads_the_connector_outbox_and_nobody_else_does(client: AsyncTestClient[Any],
                                                                               demo: None) -> None:
    from tests.helpers import login_as

    response = await client.get("/api/admin/connector/", headers=await login_as(client, "admin"))
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["counts"]["pending"] > 0  # the demo's licence, departments and staff wait for the platform
    assert {"lag_s", "oldest", "dead", "waiting"} <= set(status)
    # No platform is configured in the tests: the page's verdict is red, whatever the lag (issue 14, SUP-01).
    assert status["health"]["ok"] is False and "not_configured" in status["health"]["alarms"], status["health"]
    assert status["health"]["lag_threshold_s"] == 300.0
    refused = await client.get("/api/admin/connector/", headers=await login_as(client, "patient"))
    assert refused.status_code == 403
