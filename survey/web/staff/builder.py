"""Staff pages of the survey builder: create (template or copy), overview, settings, status
and 发放 batches. The question editor, the QR/poster pages and deletion/archiving register on
the same blueprint from `questions.py`, `posters.py` and `archive.py`."""
from flask import current_app, flash, g, redirect, render_template, request, url_for

from ...core.errors import DomainError
from ...core.figure_text import SATISFIED_LEVEL_NAMES, VALUE_PRESET_NAMES
from ...core.labels import china_time, percent
from ...core.questionnaire import QUESTION_KINDS, load_survey_template
from ...core.settings import SurveySettings
from ...store import StoreError
from ...store import builder as store
from ...store import surveys as survey_store
from ...store.tallies import ISSUED_RULE, issued_count, survey_figures
from ..auth import department_id, login_required
from ..db import get_db
from ..forms.builder import (
    HEADLINE_TEXT,
    CopySurveyForm,
    IssuedForm,
    NewSurveyForm,
    ScaleSchemeForm,
    SettingsForm,
    settings_data,
)
from ..urls import public_url
from .base import bp, scoped_survey

STATUS_ACTIONS = {"open": ("draft", "open", "问卷已开放，群众现在可以扫码填写"),
                  "close": ("open", "closed", "问卷已结束收集"),
                  "reopen": ("closed", "open", "问卷已重新开放")}


@bp.app_context_processor
def _endpoints():
    # Tabs link to pages other modules may or may not have registered yet.
    return {"has_endpoint": lambda name: name in current_app.view_functions,
            "survey_statuses": survey_store.STATUSES, "question_kinds": QUESTION_KINDS,
            "plain_number": plain_number, "local_time": lambda stored: china_time(stored, empty=""),
            "percent": lambda part, whole: percent(part / whole) if whole else "—"}


def plain_number(value) -> str:
    """100.0 -> '100', 7.5 -> '7.5', None -> ''."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _user_id() -> int:
    return g.user["id"]


def render_survey_page(template: str, survey: dict, tab: str, **context):
    """A page of one survey, with the tab bar (templates/staff/_survey_tabs.html)."""
    return render_template(template, survey=survey, tab=tab, **context)


def _department_sources() -> list[dict]:
    return survey_store.department_surveys(get_db(), department_id(), archived=None)


def _new_page(new_form, copy_form, status=200):
    return render_template("staff/survey_new.html", form=new_form, copy_form=copy_form,
                           sources=copy_form.source.choices), status


def _copy_form(**kwargs) -> CopySurveyForm:
    form = CopySurveyForm(**kwargs)
    form.set_sources(_department_sources())
    return form


@bp.route("/surveys/new", methods=["GET", "POST"])
@login_required
def new_survey():
    form = NewSurveyForm()
    copy_form = _copy_form(formdata=None)
    if not form.validate_on_submit():
        return _new_page(form, copy_form, 422 if form.is_submitted() else 200)
    db = get_db()
    try:
        questionnaire = load_survey_template(form.template.data, form.satisfied_levels.data,
                                             form.value_preset.data)
        title = form.title.data or _default_title(questionnaire["title"], form.year.data)
        survey_id = survey_store.create_survey(db, department_id(), questionnaire, title=title,
                                               year=form.year.data)
    except (DomainError, StoreError) as error:
        form.template.errors.append(str(error))
        return _new_page(form, copy_form, 422)
    flash("问卷已创建（草稿）。请检查题目和设置，然后开放收集。")
    return redirect(url_for("staff.survey", survey_id=survey_id), 303)


def _default_title(template_title: str, year: int | None) -> str:
    return f"{year} 年{template_title}" if year else template_title


@bp.post("/surveys/copy")
@login_required
def copy_survey():
    form = _copy_form()
    if not form.validate_on_submit():
        return _new_page(NewSurveyForm(formdata=None), form, 422)
    source = scoped_survey(form.source.data)
    survey_id = store.copy_survey(get_db(), source, title=form.title.data, year=form.year.data,
                                  user_id=_user_id())
    flash(f"已复制“{source['title']}”为新问卷（草稿，新的答卷链接和二维码）。")
    return redirect(url_for("staff.survey", survey_id=survey_id), 303)


@bp.get("/surveys/<int:survey_id>/manage")
@login_required
def survey(survey_id):
    survey = scoped_survey(survey_id)
    db = get_db()
    returned, valid = store.response_counts(db, survey_id)
    siblings = [s for s in _department_sources()
                if survey["series"] and s["series"] == survey["series"] and s["id"] != survey_id]
    next_year = survey["year"] + 1 if survey["year"] else None
    copy_form = _copy_form(formdata=None, data={
        "source": survey_id, "year": next_year,
        "title": _next_title(survey["title"], survey["year"], next_year)})
    return render_survey_page(
        "staff/survey_overview.html", survey, "overview", returned=returned, valid=valid,
        issued=issued_count(db, survey_id), public_url=public_url(survey["token"]),
        questions=survey_store.questionnaire(db, survey_id), siblings=siblings,
        copy_form=copy_form, summary=_settings_summary(survey),
        opens=china_time(survey["opens_at"], empty=""), closes=china_time(survey["closes_at"], empty=""),
        accepting=survey_store.is_accepting(survey))


def _next_title(title: str, year: int | None, next_year: int | None) -> str:
    if year and next_year and str(year) in title:
        return title.replace(str(year), str(next_year))
    return f"{title}（副本）"


def _settings_summary(survey: dict) -> dict:
    settings = SurveySettings.of(survey)
    try:
        rules = settings.screening_rules().describe()
    except DomainError as error:
        rules = [str(error)]
    return {"levels": SATISFIED_LEVEL_NAMES.get(settings.satisfied_levels, "—"),
            "preset": VALUE_PRESET_NAMES.get(settings.value_preset, "—"),
            "headline": HEADLINE_TEXT.get(settings.headline, "—"),
            "screening": rules or ["不做自动筛查，全部答卷计为有效"],
            "dedupe": survey_store.DEDUPE_POLICIES.get(survey["dedupe_policy"], "—"),
            "population": settings.population}


def _settings_page(survey, form, scale_form, status=200):
    db = get_db()
    return render_survey_page("staff/survey_settings.html", survey, "settings", form=form,
                              scale_form=scale_form, locked=store.has_responses(db, survey["id"])
                              ), status


def _settings_form(survey: dict, **kwargs) -> SettingsForm:
    db = get_db()
    form = SettingsForm(**kwargs)
    form.set_context(survey_store.questionnaire(db, survey["id"]),
                     store.response_counts(db, survey["id"])[1])
    return form


@bp.route("/surveys/<int:survey_id>/settings", methods=["GET", "POST"])
@login_required
def survey_settings(survey_id):
    survey = scoped_survey(survey_id)
    form = _settings_form(survey, data=settings_data(survey))
    scale_form = ScaleSchemeForm(formdata=None, data=SurveySettings.of(survey).to_dict())
    if not form.validate_on_submit():
        return _settings_page(survey, form, scale_form, 422 if form.is_submitted() else 200)
    store.update_settings(get_db(), survey, form.settings(), _user_id())
    flash("设置已保存。筛查规则的改动只对此后提交的答卷生效。")
    return redirect(url_for("staff.survey_settings", survey_id=survey_id), 303)


@bp.post("/surveys/<int:survey_id>/settings/scale")
@login_required
def survey_scale(survey_id):
    survey = scoped_survey(survey_id)
    scale_form = ScaleSchemeForm()
    if scale_form.validate_on_submit():
        try:
            store.apply_scale_scheme(get_db(), survey, scale_form.satisfied_levels.data,
                                     scale_form.value_preset.data, _user_id())
        except (DomainError, StoreError) as error:
            scale_form.satisfied_levels.errors.append(str(error))
        else:
            flash("已按新的满意口径和分值方案更新全部量表题。")
            return redirect(url_for("staff.survey_settings", survey_id=survey_id), 303)
    form = _settings_form(survey, formdata=None, data=settings_data(survey))
    return _settings_page(survey, form, scale_form, 422)


@bp.post("/surveys/<int:survey_id>/status")
@login_required
def survey_status(survey_id):
    survey = scoped_survey(survey_id)
    action = STATUS_ACTIONS.get(request.form.get("action", ""))
    if action is None or survey["status"] != action[0]:
        flash("问卷当前状态不能执行该操作，请刷新页面后重试。")
        return redirect(url_for("staff.survey", survey_id=survey_id), 303)
    db = get_db()
    if action[1] == "open" and not survey_store.questionnaire(db, survey_id):
        flash("问卷还没有题目，不能开放。")
        return redirect(url_for("staff.survey", survey_id=survey_id), 303)
    survey_store.set_status(db, survey_id, action[1], _user_id())
    flash(action[2])
    updated = survey_store.get_survey(db, survey_id)
    if action[1] == "open" and not survey_store.is_accepting(updated):
        flash("注意：当前不在设置的收集时间内，群众暂时无法提交。请在“设置”中检查开始和截止时间。")
    return redirect(url_for("staff.survey", survey_id=survey_id), 303)


@bp.route("/surveys/<int:survey_id>/issued", methods=["GET", "POST"])
@login_required
def issued(survey_id):
    survey = scoped_survey(survey_id)
    db = get_db()
    form = IssuedForm()
    form.set_channels(store.saved_channel_names(db, survey_id))
    if form.validate_on_submit():
        store.record_issued(db, survey, form.count.data, form.note.data or "", _user_id(),
                            channel=form.channel_value())
        flash(f"已登记发放 {form.count.data} 份。")
        return redirect(url_for("staff.issued", survey_id=survey_id), 303)
    returned, _ = store.response_counts(db, survey_id)
    status = 422 if form.is_submitted() else 200
    # 回收率 from the figures: only channels with an issued count against what was issued
    figures = survey_figures(db, survey)
    return render_survey_page("staff/survey_issued.html", survey, "issued", form=form,
                              batches=store.issued_batches(db, survey_id),
                              total=issued_count(db, survey_id), returned=returned,
                              return_rate=percent(figures["exact"]["return_rate"]),
                              coverage=figures["channels"],
                              return_rate_text=figures["definitions"]["return_rate"],
                              issued_rule=ISSUED_RULE), status


@bp.post("/surveys/<int:survey_id>/issued/<int:batch_id>/delete")
@login_required
def delete_issued(survey_id, batch_id):
    survey = scoped_survey(survey_id)
    try:
        store.delete_issued(get_db(), survey, batch_id, _user_id())
    except StoreError as error:
        flash(str(error))
    else:
        flash("已删除该发放记录。")
    return redirect(url_for("staff.issued", survey_id=survey_id), 303)
