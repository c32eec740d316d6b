"""The JSON API, versioned under /api/v1/, described at /api/v1/openapi.json.

Callers authenticate with a department API token (`Authorization: Bearer <token>`) or a
logged-in staff session. Everything is scoped to that department: another department's
survey or assessment is a 404, never a 403. Reading is open to every token and session; the
one write, creating a 一事一评 invitation (see api_invitations), needs a token with the
'invite' scope: a session cannot write here, so this blueprint needs no CSRF token.
"""
import datetime as dt
import io
import re
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, abort, current_app, g, make_response, request, send_file, url_for

from ..core.errors import DomainError
from ..core.transactions import transaction_from
from ..io import qr
from ..store import api_tokens, assessment_view
from ..store import assessments as assessment_store
from ..store import surveys as survey_store
from ..store import windows as window_store
from ..store.tallies import TallyFilter, survey_figures
from . import api_spec
from .db import get_db
from .downloads import content_disposition
from .errors import render_error
from .security import csrf
from .urls import base_url, invitation_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens only for POST (a browser never sends those by itself)
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
        g.api_scopes = row["scopes"] if row else set()
    else:
        user = g.get("user")
        g.api_department_id = user["department_id"] if user else None
        g.api_scopes = {"read"}
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


def _require_scope(scope: str) -> None:
    if scope not in g.api_scopes:
        _refuse(403, f"此操作需要具有 {scope} 权限的 API 令牌（在“API 令牌”页面创建）")


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


# --- 一事一评: a window's business system invites the citizen of each finished transaction ---
# POST needs a token with the 'invite' scope (read-only tokens and staff sessions get 403).
# The same reference gives back the same invitation: 201 when created, 200 when it existed.

RECENT_LIMIT = 100


def invitation_item(row: dict) -> dict:
    survey_id, reference = row["survey_id"], row["reference"]
    return {"id": row["id"], "survey_id": survey_id, "reference": reference,
            "window": row["window_name"], "staff": row["staff_code"],
            "url": invitation_url(row["token"]),
            "created_at": row["created_at"], "expires_at": row["expires_at"],
            "expired": window_store.is_expired(row), "answered": row["response_id"] is not None,
            "answered_at": row["answered_at"],
            "qr": {kind: url_for(f"api.invitation_qr_{kind}", survey_id=survey_id,
                                 reference=reference) for kind in qr.RECEIPT_KINDS}}


@bp.get("/surveys/<int:survey_id>/invitations")
def invitations(survey_id):
    _survey(survey_id)
    rows = window_store.recent_invitations(get_db(), survey_id, RECENT_LIMIT)
    return {"survey_id": survey_id, "invitations": [invitation_item(r) for r in rows]}


@bp.post("/surveys/<int:survey_id>/invitations")
def create_invitation(survey_id):
    survey = _survey(survey_id)
    _require_scope("invite")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        _refuse(400, "请求体应为 JSON 对象，例如 {\"reference\": \"BJ2024000123\", \"window\": \"窗口 3\"}")
    try:
        transaction = transaction_from(body.get("reference"), body.get("window"),
                                       body.get("staff"))
    except DomainError as error:
        _refuse(400, str(error))
    if survey["status"] == "closed":
        _refuse(409, "问卷已结束收集，不能再发放评价邀请")
    row, created = window_store.invite(get_db(), survey_id, transaction,
                                       current_app.config["INVITATION_DAYS"])
    return invitation_item(row), 201 if created else 200


@bp.get("/surveys/<int:survey_id>/invitations/<reference>/qr.png")
def invitation_qr_png(survey_id, reference):
    """The invitation's QR code for a 58 mm receipt printer (384 dots wide at most)."""
    return _invitation_qr(survey_id, reference, "png")


@bp.get("/surveys/<int:survey_id>/invitations/<reference>/qr.svg")
def invitation_qr_svg(survey_id, reference):
    """The same, 48 mm wide, for printing from a document."""
    return _invitation_qr(survey_id, reference, "svg")


def _invitation_qr(survey_id: int, reference: str, kind: str):
    _survey(survey_id)
    row = window_store.invitation_by_reference(get_db(), survey_id, reference[:200])
    if row is None:
        _refuse(404, "没有该办件编号的评价邀请")
    url = invitation_url(row["token"])
    data, mimetype = ((qr.receipt_png(url), "image/png") if kind == "png"
                      else (qr.receipt_svg(url), "image/svg+xml"))
    response = send_file(io.BytesIO(data), mimetype=mimetype, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(
        f"评价二维码-{row['reference']}.{kind}", f"invitation-{row['reference']}.{kind}",
        inline=request.args.get("download") != "1")
    response.headers["Cache-Control"] = "private, no-cache"
    return response
