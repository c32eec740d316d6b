"""The read-only JSON API, versioned under /api/v1/, described at /api/v1/openapi.json.

Callers authenticate with a department API token (`Authorization: Bearer <token>`) or a
logged-in staff session. Everything is scoped to that department: another department's
survey or assessment is a 404, never a 403.
"""
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, abort, g, make_response, request, url_for

from ..store import api_tokens, assessment_view
from ..store import assessments as assessment_store
from ..store import surveys as survey_store
from ..store.tallies import TallyFilter, survey_figures
from . import api_spec
from .db import get_db
from .errors import render_error
from .security import csrf
from .urls import base_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # read-only: GET requests only
SOURCES = ("qr", "web", "paper")
FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UNAUTHORISED = "需要有效的 API 令牌：请求头 Authorization: Bearer <令牌>"


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


@bp.before_request
def authenticate():
    """Set g.api_department_id from the token or the staff session, else answer 401."""
    if request.endpoint == "api.openapi":
        return None
    token = _bearer_token()
    if token is not None:
        row = api_tokens.authenticate(get_db(), token)
        g.api_department_id = row["department_id"] if row else None
    else:
        user = g.get("user")
        g.api_department_id = user["department_id"] if user else None
    if g.api_department_id is None:
        body, status = render_error(401, UNAUTHORISED)
        return body, status, {"WWW-Authenticate": 'Bearer realm="survey"'}
    return None


def api_department_id() -> int:
    return g.api_department_id


def _survey(survey_id: int) -> dict:
    survey = survey_store.get_survey(get_db(), survey_id, api_department_id())
    if survey is None:
        abort(404)
    return survey


def _refuse(status: int, message: str):
    abort(make_response(render_error(status, message)))


def _date(name: str) -> str | None:
    """An absent date is no bound; an empty or malformed one is a 400 (the description says
    `format: date`), never silently no bound."""
    value = request.args.get(name)
    if value is not None:
        try:
            # fromisoformat alone also takes 20240101 and 2024-W01-1, which are not RFC 3339
            if not FULL_DATE.fullmatch(value):
                raise ValueError(value)
            dt.date.fromisoformat(value)
        except ValueError:
            _refuse(400, f"参数 {name} 应为 YYYY-MM-DD 格式的日期")
    return value


def _filter() -> TallyFilter:
    source = request.args.get("source")
    if source is not None and source not in SOURCES:
        _refuse(400, "参数 source 只能是 qr、web 或 paper")
    return TallyFilter(day_from=_date("from"), day_to=_date("to"),
                       channel=request.args.get("channel"), source=source)


@bp.get("/openapi.json")
def openapi():
    return api_spec.openapi(base_url() + bp.url_prefix)


@bp.get("/surveys")
def surveys():
    rows = survey_store.department_surveys(get_db(), api_department_id())
    return {"surveys": [_survey_item(s) for s in rows]}


def _survey_item(s: dict) -> dict:
    return {"id": s["id"], "title": s["title"], "status": s["status"],
            "status_text": survey_store.STATUSES[s["status"]], "year": s["year"],
            "series": s["series"], "returned": s["returned"], "valid": s["valid"],
            "created_at": s["created_at"],
            "links": {"summary": url_for("api.summary", survey_id=s["id"]),
                      "questions": url_for("api.questions", survey_id=s["id"])}}


@bp.get("/surveys/<int:survey_id>/summary")
def summary(survey_id):
    survey = _survey(survey_id)
    return survey_figures(get_db(), survey, _filter())


@bp.get("/surveys/<int:survey_id>/questions")
def questions(survey_id):
    survey = _survey(survey_id)
    figures = survey_figures(get_db(), survey, _filter())
    return {"survey_id": survey_id, "title": figures["title"], "valid": figures["valid"],
            "questions": figures["questions"]}


def _two_places(value: Decimal) -> float:
    return float(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _assessment_totals(db, assessment: dict) -> dict:
    view = assessment_view.build_view(db, assessment)
    return {"id": assessment["id"], "title": assessment["title"], "year": assessment["year"],
            "status": assessment["status"], "total": _two_places(view.total), "grade": view.grade,
            "finalised_at": assessment.get("finalised_at"),
            "levels": [level.to_dict() for level in view.levels]}


@bp.get("/assessments")
def assessments():
    db = get_db()
    return {"assessments": [_assessment_totals(db, a)
                            for a in assessment_store.list_assessments(db, api_department_id())]}


@bp.get("/assessments/<int:assessment_id>")
def assessment(assessment_id):
    db = get_db()
    found = assessment_store.get_assessment(db, assessment_id, api_department_id())
    if found is None:
        abort(404)
    return _assessment_totals(db, found)
