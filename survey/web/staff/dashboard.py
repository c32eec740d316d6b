"""Staff pages: a survey's dashboard (figures, charts, tables, suggestions, validity decisions)
and the department overview across surveys and years.

Figures and charts come from a file cache keyed on a cheap data version, so a page view with
no new data reads a few small rows and one cached file; nothing is recomputed."""
import json
from pathlib import Path

from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, url_for

from ...core.errors import DomainError
from ...core.figures import precision_warning
from ...core.labels import percent
from ...core.overview import overview_rows, series_groups
from ...io import charts
from ...io.file_cache import FileCache, digest
from ...store import StoreError
from ...store import dashboard as board
from ...store import surveys as survey_store
from ...store import windows as window_store
from ...store.responses import set_validity
from ...store.tallies import TallyFilter, channels
from ...store.util import audit, dumps
from ..auth import department_id, login_required
from ..db import get_db
from ..downloads import content_disposition
from ..errors import render_error
from ..forms.dashboard import DashboardFilterForm, ValidityDecisionForm
from .base import bp, scoped_survey

PER_PAGE = 20
MAX_PAGE = 1_000_000
SURVEY_CHARTS = ("levels", "daily", "channels")


def _cache() -> FileCache:
    return FileCache(Path(current_app.instance_path) / "cache" / "dashboard")


def _filter_form(db, survey: dict) -> DashboardFilterForm:
    form = DashboardFilterForm(request.args, channels(db, survey["id"]))
    form.validate()
    return form


def _page_arg() -> int:
    # Clamped: a hostile ?page=10**30 must not reach SQLite's OFFSET as an overflow.
    return min(max(1, request.args.get("page", 1, type=int) or 1), MAX_PAGE)


def _slot(owner: str, name: str, flt: TallyFilter) -> str:
    return f"s{owner}-{name}-{digest(board.filter_parts(flt))[:12]}"


def cached_figures(db, survey: dict, flt: TallyFilter, version: board.DataVersion) -> dict:
    """{"figures", "channels"} under the filter, computed once per data version."""
    entry = _cache().fetch(
        _slot(survey["id"], "figures", flt), version.key("figures", board.filter_parts(flt)),
        "json", lambda: dumps(board.dashboard_figures(db, survey, flt)).encode())
    return json.loads(entry.data)


def _live_version(version: board.DataVersion) -> str:
    return version.key("live")[:16]


@bp.get("/surveys/<int:survey_id>/")
@login_required
def dashboard(survey_id):
    survey = scoped_survey(survey_id)
    db = get_db()
    form = _filter_form(db, survey)
    flt = form.tally_filter()
    version = board.data_version(db, survey)
    figures, problem = None, None
    try:
        figures = cached_figures(db, survey, flt, version)["figures"]
    except DomainError as error:
        problem = str(error)
    return render_template(
        "staff/dashboard.html", survey=survey, form=form, figures=figures,
        problem=problem, warning=precision_warning(figures) if figures else None,
        tables=board.question_tables(figures) if figures else None, pct=percent,
        suggestions=board.suggestions(db, survey_id, flt, form.search(), _page_arg(), PER_PAGE),
        busy=board.busy_address_flags(db, survey_id),
        chart_args={**form.args(),
                    "v": version.key(charts.style_version(), with_views=False)[:12]},
        live_version=_live_version(version), refresh=survey["status"] == "open",
        refresh_seconds=current_app.config.get("DASHBOARD_REFRESH_SECONDS", 60),
        windows=window_store.window_figures(db, survey) if figures else [],
        tab="dashboard", survey_statuses=survey_store.STATUSES)


@bp.get("/surveys/<int:survey_id>/live")
@login_required
def dashboard_live(survey_id):
    """The data version, polled by dashboard.js to know when to reload the figures."""
    survey = scoped_survey(survey_id)
    response = make_response({"version": _live_version(board.data_version(get_db(), survey))})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/surveys/<int:survey_id>/charts/<kind>.<fmt>")
@login_required
def dashboard_chart(survey_id, kind, fmt):
    if kind not in SURVEY_CHARTS or fmt not in charts.FORMATS:
        abort(404)
    survey = scoped_survey(survey_id)
    db = get_db()
    flt = _filter_form(db, survey).tally_filter()
    version = board.data_version(db, survey)
    phone = request.args.get("size") == "phone"  # drawn for a phone's width

    def make() -> bytes:
        data = cached_figures(db, survey, flt, version)
        return charts.render(kind, data["channels" if kind == "channels" else "figures"], fmt,
                             phone=phone)

    key = version.key(kind + "-phone" * phone, fmt, board.filter_parts(flt), charts.style_version(),
                      with_views=False)
    return _chart_response(_slot(survey_id, f"{kind}{'-phone' * phone}-{fmt}", flt), key, fmt, make,
                           f"{survey['title']}-{charts.CHARTS[kind][0]}")


def _chart_response(slot: str, key: str, fmt: str, make, title: str):
    if key[:32] in request.if_none_match:
        return _not_modified(key)
    try:
        entry = _cache().fetch(slot, key, fmt, make)
    except DomainError as error:
        return render_error(409, str(error))
    response = make_response(entry.data)
    response.mimetype = charts.FORMATS[fmt]
    response.set_etag(entry.etag)
    response.last_modified = entry.modified
    # Revalidate every time: the ETag answers "unchanged" without drawing anything.
    response.cache_control.private = True
    response.cache_control.no_cache = True
    if fmt == "png":
        # RFC 5987: a Chinese title in a raw header is a 500 under waitress (latin-1 only)
        response.headers["Content-Disposition"] = content_disposition(title + ".png", "chart.png")
    return response.make_conditional(request)


def _not_modified(key: str):
    response = make_response("", 304)
    response.set_etag(key[:32])
    return response


@bp.get("/surveys/<int:survey_id>/excluded")
@login_required
def dashboard_excluded(survey_id):
    survey = scoped_survey(survey_id)
    db = get_db()
    wanted = request.args.get("response", "").strip()
    if wanted:
        if wanted.isdecimal() and board.response_detail(db, survey_id, int(wanted)):
            return redirect(url_for("staff.dashboard_response", survey_id=survey_id,
                                    response_id=int(wanted)))
        flash(f"本问卷中没有编号为 {wanted[:20]} 的答卷")
    form = _filter_form(db, survey)
    flt = form.tally_filter()
    return render_template(
        "staff/dashboard_excluded.html", survey=survey, form=form,
        excluded=board.excluded_responses(db, survey_id, flt, _page_arg(), PER_PAGE),
        decisions=board.validity_log(db, survey_id), tab="dashboard",
        survey_statuses=survey_store.STATUSES)


@bp.route("/surveys/<int:survey_id>/responses/<int:response_id>", methods=["GET", "POST"])
@login_required
def dashboard_response(survey_id, response_id):
    survey = scoped_survey(survey_id)
    db = get_db()
    detail = board.response_detail(db, survey_id, response_id)
    if detail is None:
        abort(404)
    form = ValidityDecisionForm()
    if form.validate_on_submit():
        valid = form.valid.data == "1"
        try:
            set_validity(db, response_id, valid, form.reason.data, g.user["id"])
        except StoreError as error:
            form.reason.errors.append(str(error))
        else:
            audit(db, "response.validity", department_id=department_id(),
                  user_id=g.user["id"], subject=response_id,
                  detail={"valid": valid, "reason": form.reason.data.strip()})
            flash(f"已将第 {response_id} 号答卷判定为{'有效' if valid else '无效'}，统计数字已更新")
            return redirect(url_for("staff.dashboard_response", survey_id=survey_id,
                                    response_id=response_id))
    return render_template(
        "staff/dashboard_response.html", survey=survey, detail=detail, form=form,
        decisions=board.validity_log(db, survey_id, response_id), tab="dashboard",
        survey_statuses=survey_store.STATUSES)


def _survey_figures(db, survey: dict) -> tuple[dict | None, str | None]:
    try:
        version = board.data_version(db, survey)
        return cached_figures(db, survey, TallyFilter(), version)["figures"], None
    except DomainError as error:
        return None, str(error)


def _department_rows(db) -> list[dict]:
    surveys = survey_store.department_surveys(db, department_id())
    return overview_rows(surveys, lambda s: _survey_figures(db, s))


@bp.get("/overview")
@login_required
def overview():
    db = get_db()
    rows = _department_rows(db)
    return render_template("staff/overview.html", rows=rows, groups=series_groups(rows),
                           statuses=survey_store.STATUSES, pct=percent)


@bp.get("/overview/series.<fmt>")
@login_required
def overview_chart(fmt):
    if fmt not in charts.FORMATS:
        abort(404)
    name = request.args.get("series", "")
    group = next((g_ for g_ in series_groups(_department_rows(get_db()))
                  if g_["series"] == name), None)
    if group is None:
        abort(404)
    bars = [{"label": m["label"], "rate": m["rate"], "ci": m["ci"], "n": m["n"],
             "exact": m.get("exact")}
            for m in group["members"]]
    key = digest(board.CACHE_GENERATION, charts.style_version(), "series", fmt, bars)
    return _chart_response(f"series-d{department_id()}-{digest(name)[:12]}-{fmt}", key, fmt,
                           lambda: charts.render("series", bars, fmt), f"{name}-历年满意率对比")
