"""The page router: public HTML shells for every role, rendered from `frontend/templates`.

A page carries no patient data. It names the hospital (its approved name, from the licence), the language,
and the ES module that fetches the data from the JSON API with the bearer token kept in sessionStorage. Which
role a page is for is stated in the page (`data-role`) and checked by the module; the API enforces it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.core.errors import HospitalError
from hospital.core.messages import requirement_text, rule_text
from hospital.institution.service import public_institution
from hospital.rules_index import load_all_rules
from hospital.web.http import PUBLIC
from hospital.web.i18n import FRONTEND_DIR, LANGUAGES, catalogue, language_of, translator

__all__ = ["NAV", "PAGES", "PAGE_ROUTES", "PROBLEM_PAGE", "Page", "static_router", "template_config"]

log = logging.getLogger("hospital.web")


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    name: str  # template `pages/<name>.html` and module `static/js/pages/<name>.js`
    area: str  # public | patient | doctor | pharmacist | admin: the layout and the role the module requires (none
    #            for public pages, whose modules may still use a session they find, e.g. the call page)
    title: str  # catalogue key of the page title


PAGES = (
    Page("/", "home", "public", "page.home"),
    Page("/disclosure", "disclosure", "public", "page.disclosure"),
    Page("/login", "login", "public", "page.login"),
    Page("/patient/register", "register", "public", "page.register"),
    # The video call of a visit, for its patient or its doctor: which of them may join is the API's to decide.
    Page("/visits/{visit_id:uuid}/call", "call", "public", "page.call"),
    Page("/patient", "patient-home", "patient", "page.patient_home"),
    Page("/patient/consent", "patient-consent", "patient", "page.patient_consent"),
    Page("/patient/diagnoses", "patient-diagnoses", "patient", "page.patient_diagnoses"),
    Page("/patient/book", "patient-book", "patient", "page.patient_book"),
    Page("/patient/visits/{visit_id:uuid}", "patient-visit", "patient", "page.patient_visit"),
    Page("/patient/prescriptions", "patient-prescriptions", "patient", "page.patient_prescriptions"),
    Page("/patient/feedback", "patient-feedback", "patient", "page.patient_feedback"),
    Page("/doctor/verify", "face-verify", "doctor", "page.face_verify"),
    Page("/doctor", "doctor-queue", "doctor", "page.doctor_queue"),
    Page("/doctor/visits/{visit_id:uuid}", "doctor-visit", "doctor", "page.doctor_visit"),
    Page("/doctor/schedules", "doctor-schedules", "doctor", "page.doctor_schedules"),
    Page("/pharmacist/verify", "face-verify", "pharmacist", "page.face_verify"),
    Page("/pharmacist", "pharmacist-queue", "pharmacist", "page.pharmacist_queue"),
    Page("/admin", "admin-staff", "admin", "page.admin_staff"),
    Page("/admin/staff/new", "admin-admit", "admin", "page.admin_admit"),
    Page("/admin/institution", "admin-institution", "admin", "page.admin_institution"),
    Page("/admin/quality", "admin-quality", "admin", "page.admin_quality"),
    Page("/admin/schedules", "admin-schedules", "admin", "page.admin_schedules"),
    Page("/admin/consent", "admin-consent", "admin", "page.admin_consent"),
    Page("/admin/connector", "admin-connector", "admin", "page.admin_connector"),
    Page("/admin/security", "admin-security", "admin", "page.admin_security"),
)

# The navigation of each area: (href, catalogue key).
NAV: dict[str, tuple[tuple[str, str], ...]] = {
    "public": (("/", "nav.home"), ("/disclosure", "nav.disclosure"), ("/login", "nav.login"),
               ("/patient/register", "nav.register")),
    "patient": (("/patient", "nav.patient_home"), ("/patient/diagnoses", "nav.patient_diagnoses"),
                ("/patient/book", "nav.patient_book"), ("/patient/prescriptions", "nav.patient_prescriptions"),
                ("/patient/feedback", "nav.patient_feedback"),
                ("/disclosure", "nav.disclosure")),
    "doctor": (("/doctor", "nav.doctor_queue"), ("/doctor/schedules", "nav.doctor_schedules"),
               ("/doctor/verify", "nav.face_verify"), ("/disclosure", "nav.disclosure")),
    "pharmacist": (("/pharmacist", "nav.pharmacist_queue"), ("/pharmacist/verify", "nav.face_verify"),
                   ("/disclosure", "nav.disclosure")),
    "admin": (("/admin", "nav.admin_staff"), ("/admin/staff/new", "nav.admin_admit"),
              ("/admin/institution", "nav.admin_institution"), ("/admin/schedules", "nav.admin_schedules"),
              ("/admin/consent", "nav.admin_consent"), ("/admin/quality", "nav.admin_quality"),
              ("/admin/connector", "nav.admin_connector"), ("/admin/security", "nav.admin_security"),
              ("/disclosure", "nav.disclosure")),
}

# Pages are never cached. The content security policy (this origin only: nothing inline, nothing from a CDN), the
# referrer policy and the rest come with every response (hospital.web.http.security_headers).
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
}


async def hospital_heading(session: AsyncSession, ctx: HospitalContext) -> dict[str, Any]:
    """The approved name for the header, and whether the hospital may serve: a banner when the licence is not
    in force (INS-01) or the administrator stopped the service (QA-02)."""
    try:
        institution = await public_institution(session, ctx)
    except (HospitalError, OSError, RuntimeError) as exc:  # the page still renders and says why below
        log.warning("institution unavailable for the page header: %s", exc)
        return {"name": ctx.settings.hospital_name, "institution_name": "", "licence_in_force": None,
                "service_stopped": False, "service_stop_reason": None}
    licence = institution["licence"] or {}
    return {"name": institution["name"], "institution_name": licence.get("institution_name", ""),
            "licence_in_force": institution["licence_in_force"],
            "service_stopped": institution.get("service_stopped", False),
            "service_stop_reason": institution.get("service_stop_reason")}


def _handler(page: Page) -> HTTPRouteHandler:
    async def show(request: Request[Any, Any, Any], db_session: AsyncSession, ctx: HospitalContext) -> Template:
        language = language_of(request.query_params, request.cookies)
        context = {
            "page": page, "lang": language, "languages": LANGUAGES, "t": translator(language),
            "strings": dict(catalogue(language)), "nav": NAV[page.area], "current_path": request.url.path,
            "hospital": await hospital_heading(db_session, ctx),
        }
        return Template(template_name=f"pages/{page.name}.html", context=context, headers=SECURITY_HEADERS,
                        media_type="text/html")

    show.__name__ = f"page_{page.name.replace('-', '_')}_{page.area}"
    return get(page.path, name=show.__name__, opt=PUBLIC, include_in_schema=False)(show)


# The page a problem's `type` URI names (`/problems/RX-02`): what the rule asks, in plain words, and what to do,
# for everyone who met the refusal (public, no log-in; issue 14). One requirement, all its registered rules.
PROBLEM_PAGE = Page("/problems/{rule_id:str}", "problem", "public", "page.problem")


@get(PROBLEM_PAGE.path, name="page_problem", opt=PUBLIC, include_in_schema=False)
async def problem_page(rule_id: str, request: Request[Any, Any, Any], db_session: AsyncSession,
                       ctx: HospitalContext) -> Template:
    language = language_of(request.query_params, request.cookies)
    requirement = requirement_text(rule_id, language)
    if requirement is None:
        raise NotFoundException(f"no rule {rule_id}")
    rules = []
    for registered in load_all_rules():
        if registered.rule_id == rule_id:
            text = rule_text(registered.qualname, registered.title, language)
            if text is not None:
                rules.append({"title": text.title, "action": text.detail, "source": registered.source})
    context = {
        "page": PROBLEM_PAGE, "lang": language, "languages": LANGUAGES, "t": translator(language),
        "strings": dict(catalogue(language)), "nav": NAV["public"], "current_path": request.url.path,
        "hospital": await hospital_heading(db_session, ctx), "rule_id": rule_id, "requirement": requirement,
        "rules": rules,
    }
    return Template(template_name="pages/problem.html", context=context, headers=SECURITY_HEADERS,
                    media_type="text/html")


PAGE_ROUTES: list[HTTPRouteHandler] = [*(_handler(p) for p in PAGES), problem_page]


def static_router() -> Router:
    """CSS, ES modules and images from `frontend/static`, served by the app itself (no CDN)."""
    return create_static_files_router(path="/static", directories=[FRONTEND_DIR / "static"], opt=PUBLIC,
                                      include_in_schema=False, name="static")


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(loader=FileSystemLoader(FRONTEND_DIR / "templates"),
                              autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)
    # `|tojson` (the catalogue embedded for the scripts) stays HTML-safe and keeps Chinese readable.
    environment.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))
