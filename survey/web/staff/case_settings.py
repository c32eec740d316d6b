"""Staff pages: a survey's follow-up settings (which answers open a case, the time limit,
the call-back offer) and the department's working-day overrides. Changing either changes
which 差评 are followed up and when they are due, so only an administrator saves them."""
import datetime as dt

from flask import abort, flash, g, redirect, render_template, url_for
from wtforms.fields.choices import SelectChoice

from ...core.cases import CaseSettings
from ...core.errors import DomainError
from ...core.labels import percent
from ...core.settings import SurveySettings
from ...core.workdays import national_calendar, year_arrangement
from ...store import StoreError
from ...store import cases as case_store
from ...store import surveys as survey_store
from ...store import workdays as workday_store
from ...store.case_reports import MAX_ID, case_figures, today
from ..auth import admin_required, department_id, login_required
from ..db import get_db
from ..errors import render_error
from ..forms.cases import CaseSettingsForm, WorkdayOverrideForm
from .base import bp, scoped_survey

ADMIN_ONLY = "只有部门管理员可以修改该设置"


def _form_data(settings: CaseSettings) -> dict:
    return {**settings.to_dict(), "all_questions": settings.question_ids is None,
            "question_ids": list(settings.question_ids or [])}


def _settings_from(form) -> CaseSettings:
    return CaseSettings.from_dict({
        "enabled": form.enabled.data, "levels": form.levels.data or ["不满意"],
        "question_ids": None if form.all_questions.data else form.question_ids.data or None,
        "due_working_days": form.due_working_days.data, "callback": form.callback.data})


def _current(survey: dict) -> tuple[CaseSettings, str | None]:
    try:
        return CaseSettings.from_dict(SurveySettings.of(survey).cases), None
    except DomainError as error:
        return CaseSettings(), (f"已保存的设置有误（{error}），目前按默认设置立案；"
                                "请检查后重新保存。")


@bp.route("/cases/settings/<int:survey_id>", methods=["GET", "POST"])
@login_required
def case_settings(survey_id):
    if survey_id > MAX_ID:
        abort(404)
    survey = scoped_survey(survey_id)
    scale = [q for q in survey_store.questionnaire(get_db(), survey_id) if q["kind"] == "scale"]
    current, problem = _current(survey)
    form = CaseSettingsForm(data=_form_data(current))
    form.question_ids.choices = [SelectChoice(q["id"], f"{q['position']}. {q['text']}")
                                 for q in scale]
    if form.is_submitted() and g.user["role"] != "admin":
        return render_error(403, ADMIN_ONLY)
    if form.validate_on_submit():
        try:
            new = _settings_from(form)
        except DomainError as error:
            form.due_working_days.errors = [*form.due_working_days.errors, str(error)]
        else:
            case_store.save_case_settings(get_db(), survey, new, g.user["id"])
            flash("回访整改设置已保存，对此后提交的答卷生效。")
            return redirect(url_for("staff.case_settings", survey_id=survey_id), 303)
    stale = sorted(set(current.question_ids or ()) - {q["id"] for q in scale})
    return render_template("staff/cases_settings.html", survey=survey, form=form,
                           settings=current, problem=problem, stale=stale,
                           figures=case_figures(get_db(), survey_id)["total"],
                           format_percent=percent), 422 if form.is_submitted() else 200


@bp.route("/cases/workdays", methods=["GET", "POST"])
@login_required
def case_workdays():
    form = WorkdayOverrideForm()
    if form.is_submitted() and g.user["role"] != "admin":
        return render_error(403, ADMIN_ONLY)
    if form.validate_on_submit():
        try:
            moved = workday_store.set_override(get_db(), department_id(), form.day.data,
                                               form.is_workday.data == "1", form.note.data,
                                               g.user["id"])
        except StoreError as error:
            form.note.errors = [*form.note.errors, str(error)]
        else:
            flash(f"已设置 {form.day.data.isoformat()} 的工作日安排。{_moved_text(moved)}")
            return redirect(url_for("staff.case_workdays"), 303)
    year = dt.date.fromisoformat(today()).year
    national = national_calendar()
    years = [(y, *year_arrangement(national, y)) for y in (year, year + 1)]
    return render_template("staff/cases_workdays.html", form=form, years=years,
                           covered=sorted(national.years), overrides=workday_store.overrides(
                               get_db(), department_id())), 422 if form.is_submitted() else 200


@bp.post("/cases/workdays/<int:override_id>/delete")
@admin_required
def case_workday_delete(override_id):
    moved = workday_store.delete_override(get_db(), department_id(), override_id, g.user["id"])
    if moved is None:
        return render_error(404)
    flash(f"已删除该工作日安排。{_moved_text(moved)}")
    return redirect(url_for("staff.case_workdays"), 303)


def _moved_text(moved: int) -> str:
    if not moved:
        return "未办结案件的到期日不受影响。"
    return f"{moved} 件未办结案件的到期日已重新计算（见各案件的办理记录）。"
