"""Deleting, archiving, restoring and permanently removing a survey.

A survey with answers or cases is archived, never deleted by a click: any staff member of the
department may archive and restore it; only an administrator may remove it for good, after a
page listing what goes and the survey's title typed. An archived survey is read-only: every
change to it waits until it is restored."""
from flask import flash, g, redirect, render_template, request, url_for

from ...store import StoreError
from ...store import archive as store
from ...store import builder as builder_store
from ...store import surveys as survey_store
from ..auth import admin_required, department_id, login_required
from ..db import get_db
from ..forms.builder import DeleteSurveyForm
from ..urls import public_url
from .base import bp, scoped_survey
from .builder import render_survey_page

# What an archived survey still allows: being restored, or removed by an administrator.
_ARCHIVED_ACTIONS = {"staff.restore_survey", "staff.remove_survey", "staff.delete_survey"}


@bp.before_request
def _archived_is_read_only():
    survey_id = (request.view_args or {}).get("survey_id")
    if (request.method != "POST" or survey_id is None or g.get("user") is None
            or request.endpoint in _ARCHIVED_ACTIONS):
        return None
    survey = survey_store.get_survey(get_db(), survey_id, department_id())
    if survey is None or not survey["archived_at"]:
        return None  # the view answers (a 404 for another department's survey)
    flash("问卷已归档，不能修改。如需修改，请先恢复问卷。")
    return redirect(url_for("staff.survey", survey_id=survey_id), 303)


@bp.get("/surveys/archived")
@login_required
def archived_surveys():
    surveys = survey_store.department_surveys(get_db(), department_id(), archived=True)
    for s in surveys:
        s["public_url"] = public_url(s["token"])
    return render_template("staff/surveys.html", surveys=surveys, archived=True,
                           statuses=survey_store.STATUSES)


def _user_id() -> int:
    return g.user["id"]


@bp.route("/surveys/<int:survey_id>/delete", methods=["GET", "POST"])
@login_required
def delete_survey(survey_id):
    survey = scoped_survey(survey_id)
    if survey["archived_at"]:
        return redirect(url_for("staff.survey", survey_id=survey_id), 303)
    db = get_db()
    collected = store.has_collected(db, survey_id)
    form = DeleteSurveyForm()
    if form.validate_on_submit():
        if collected:
            store.archive_survey(db, survey, _user_id())
            flash(f"已归档问卷“{survey['title']}”。答卷、回访工单和统计数字均已保留，"
                  "可在“已归档问卷”中查看或恢复。")
            return redirect(url_for("staff.home"), 303)
        try:
            builder_store.delete_survey(db, survey, _user_id())
        except StoreError as error:
            form.confirm_title.errors.append(str(error))
        else:
            flash(f"已删除问卷“{survey['title']}”。")
            return redirect(url_for("staff.home"), 303)
    status = 422 if form.is_submitted() else 200
    return render_survey_page("staff/survey_delete.html", survey, "overview", form=form,
                              collected=collected, counts=store.collected_counts(db, survey_id)
                              ), status


@bp.post("/surveys/<int:survey_id>/restore")
@login_required
def restore_survey(survey_id):
    survey = scoped_survey(survey_id)
    if survey["archived_at"]:
        store.restore_survey(get_db(), survey, _user_id())
        flash(f"已恢复问卷“{survey['title']}”，它重新出现在问卷列表中。"
              "如需继续收集，请在“概况”中检查状态。")
    return redirect(url_for("staff.survey", survey_id=survey_id), 303)


@bp.route("/surveys/<int:survey_id>/remove", methods=["GET", "POST"])
@admin_required
def remove_survey(survey_id):
    survey = scoped_survey(survey_id)
    if not survey["archived_at"]:
        flash("只能永久删除已归档的问卷，请先归档。")
        return redirect(url_for("staff.survey", survey_id=survey_id), 303)
    db = get_db()
    form = DeleteSurveyForm()
    if form.validate_on_submit():
        if not form.confirmed(survey):
            form.confirm_title.errors.append("输入的标题与问卷标题不一致，未删除")
        else:
            try:
                store.remove_survey(db, survey, _user_id())
            except StoreError as error:
                form.confirm_title.errors.append(str(error))
            else:
                flash(f"已永久删除问卷“{survey['title']}”及其全部数据，操作已记入日志。")
                return redirect(url_for("staff.archived_surveys"), 303)
    status = 422 if form.is_submitted() else 200
    return render_survey_page("staff/survey_remove.html", survey, "overview", form=form,
                              counts=store.collected_counts(db, survey_id),
                              final=store.final_assessments(db, survey_id)), status
