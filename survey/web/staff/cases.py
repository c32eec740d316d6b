"""Staff pages for follow-up cases (差评回访整改): the department's list and figures, one case
with its history and the steps to take, a survey's case settings, working-day overrides."""
import datetime as dt
import io

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from ...core.cases import ACTIONS, APPEAL_KINDS, EVENT_NAMES, STATUSES, CasePermissionError, available_actions
from ...core.errors import DomainError
from ...core.labels import percent
from ...core.screening import REASON_TEXT
from ...core.workdays import describe_day, uncovered_years
from ...io.case_export import case_table
from ...io.exports import write_export
from ...store import StoreError, accounts
from ...store import case_reports as reports
from ...store import cases as case_store
from ...store import surveys as survey_store
from ...store.util import audit
from ...store.workdays import department_calendar
from ..auth import department_id, login_required
from ..db import get_db
from ..downloads import content_disposition
from ..errors import render_error
from ..forms.cases import STEP_FORMS
from .base import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scoped_case(case_id: int) -> dict:
    case = reports.get_case(get_db(), case_id, department_id())
    if case is None:
        abort(404)
    return case


def _int_arg(name: str) -> int | None:
    """A positive whole number from the query string (too large: 0, which matches nothing)."""
    value = request.args.get(name, "")
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value) if int(value) <= reports.MAX_ID else 0


def _filter() -> reports.CaseFilter:
    status = request.args.get("status", "active")
    if status not in ("active", "overdue", "all", *STATUSES):
        status = "active"
    channel = request.args.get("channel", "*")[:40]  # "" is a channel: responses with no tag
    return reports.CaseFilter(status=status, channel=None if channel == "*" else channel,
                              survey_id=_int_arg("survey"))


@bp.get("/cases")
@login_required
def cases():
    db = get_db()
    case_store.purge_expired_contacts(db)
    flt = _filter()
    page = min(max(1, _int_arg("page") or 1), 10**6)
    rows, total = reports.list_cases(db, department_id(), flt, page)
    surveys = survey_store.department_surveys(db, department_id(), archived=None)
    figures = reports.department_case_figures(db, department_id(), flt.survey_id)
    return render_template(
        "staff/cases.html", cases=rows, total=total, page=page, flt=flt, surveys=surveys,
        channels=reports.department_channels(db, department_id()), figures=figures,
        statuses=STATUSES, page_size=reports.PAGE_SIZE, today=reports.today(),
        format_percent=percent, export_args={k: v for k, v in request.args.items()
                                             if k in ("status", "channel", "survey")})


@bp.get("/cases/export.<any(csv, xlsx):ext>")
@login_required
def cases_export(ext):
    """The cases the list's filter selects (no call-back numbers: those stay on the case page)."""
    out = io.BytesIO()
    write_export([case_table(reports.filtered_cases(get_db(), department_id(), _filter()))],
                 ext, out)
    kind = XLSX if ext == "xlsx" else "text/csv; charset=utf-8"
    response = Response(out.getvalue(), content_type=kind)
    response.headers["Content-Disposition"] = content_disposition(
        f"差评案件-{reports.today()}.{ext}", f"cases-{reports.today()}.{ext}")
    return response


def _may_see_contact(case: dict) -> bool:
    """PIPL: the number is for the staff member handling the case (and the administrator
    who assigns it), not for everyone in the department."""
    return g.user["role"] == "admin" or case["assignee_id"] == g.user["id"]


def _step_forms(case: dict, failed: dict | None = None) -> dict:
    forms = {}
    for action in available_actions(case["status"], g.user["role"]):
        form = (failed or {}).get(action) or STEP_FORMS[action](formdata=None)
        if action == "assign":
            _assignee_choices(form, case)
        forms[action] = form
    return forms


def _assignee_choices(form, case: dict) -> None:
    users = accounts.department_users(get_db(), department_id())
    form.assignee_id.choices = [SelectChoice(u["id"], u["username"]) for u in users
                                if u["active"]]
    if form.assignee_id.data is None:
        form.assignee_id.data = case["assignee_id"] or g.user["id"]


def _detail_page(case: dict, failed: dict | None = None, status: int = 200):
    db = get_db()
    contact = case_store.contact(db, case["id"]) if _may_see_contact(case) else None
    if contact:
        audit(db, "case.contact_view", department_id=department_id(), user_id=g.user["id"],
              subject=case["id"])
    calendar = department_calendar(db, department_id())
    opened, due = dt.date.fromisoformat(case["opened_day"]), dt.date.fromisoformat(case["due_day"])
    return render_template(
        "staff/cases_detail.html", case=case, answers=reports.case_answers(db, case["response_id"]),
        screening=reports.screening_of(db, case["response_id"]), reason_text=REASON_TEXT,
        events=reports.case_events(db, case["id"]), event_names=EVENT_NAMES, contact=contact,
        forms=_step_forms(case, failed), actions=ACTIONS, statuses=STATUSES,
        appeal_kinds=APPEAL_KINDS, due_text=describe_day(due),
        uncovered=uncovered_years(calendar, opened, due),
        triggers={(t["question_id"], t["label"]) for t in case["triggers"]},
        missing_for_close=case_store.progress_of(case).missing_for_close()), status


@bp.get("/cases/<int:case_id>")
@login_required
def case_detail(case_id):
    case_store.purge_expired_contacts(get_db())
    return _detail_page(_scoped_case(case_id))


@bp.post("/cases/<int:case_id>/<action>")
@login_required
def case_step(case_id, action):
    case = _scoped_case(case_id)
    if action not in STEP_FORMS:
        abort(404)
    form = STEP_FORMS[action]()
    if action == "assign":
        _assignee_choices(form, case)
    if form.validate_on_submit():
        data = form.data
        step = case_store.Step(action, data["text"] or "", assignee_id=data.get("assignee_id"),
                               appeal_kind=data.get("appeal_kind"))
        try:
            case_store.take_step(get_db(), case_id, g.user, step)
        except CasePermissionError as error:
            return render_error(403, str(error))
        except (DomainError, StoreError) as error:
            form.text.errors = [*form.text.errors, str(error)]
        else:
            flash(f"已{ACTIONS[action]}。")
            return redirect(url_for("staff.case_detail", case_id=case_id), 303)
    return _detail_page(_scoped_case(case_id), {action: form}, 422)


# The survey's case settings and the working-day overrides register on the same blueprint.
