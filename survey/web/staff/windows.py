"""一事一评 staff page of a survey: its windows, each window's tablet (register, revoke) and
the account its 差评 cases go to, and the latest invitations with their receipt QR codes."""
from flask import abort, flash, g, redirect, url_for

from ...store import accounts
from ...store import windows as window_store
from ...store.tallies import ISSUED_RULE
from ..auth import department_id, login_required
from ..db import get_db
from ..forms.windows import AssigneeForm, KioskForm
from ..urls import invitation_url, kiosk_url, loopback_warning
from .base import bp, scoped_survey
from .builder import render_survey_page

RECENT_INVITATIONS = 20


def _page(survey: dict, kiosk_form=None, assignee_form=None, status: int = 200):
    db = get_db()
    kiosks = window_store.survey_kiosks(db, survey["id"])
    for k in kiosks:
        k["url"] = kiosk_url(k["token"])
    invitations = window_store.recent_invitations(db, survey["id"], RECENT_INVITATIONS)
    for i in invitations:
        i["url"] = invitation_url(i["token"])
        i["expired"] = window_store.is_expired(i)
    users = accounts.department_users(db, department_id())
    return render_survey_page(
        "staff/survey_windows.html", survey, "windows", kiosks=kiosks, invitations=invitations,
        windows=window_store.windows(db, survey["id"]), issued_rule=ISSUED_RULE,
        kiosk_form=kiosk_form or KioskForm(formdata=None),
        assignee_form=assignee_form or AssigneeForm(formdata=None).set_users(users),
        loopback=loopback_warning("本页的平板地址、评价链接和回执二维码")), status


@bp.route("/surveys/<int:survey_id>/windows", methods=["GET", "POST"])
@login_required
def windows(survey_id):
    """The page, and registering a window's tablet."""
    survey = scoped_survey(survey_id)
    form = KioskForm()
    if not form.validate_on_submit():
        return _page(survey, kiosk_form=form, status=422 if form.is_submitted() else 200)
    kiosk = window_store.register_kiosk(get_db(), survey, form.window.data, g.user["id"])
    flash(f"已登记“{kiosk['window_name']}”的评价平板：请在平板浏览器中打开下方列出的平板网址。")
    return redirect(url_for("staff.windows", survey_id=survey_id), 303)


@bp.post("/surveys/<int:survey_id>/windows/assignee")
@login_required
def window_assignee(survey_id):
    survey = scoped_survey(survey_id)
    form = AssigneeForm().set_users(accounts.department_users(get_db(), department_id()))
    if not form.validate_on_submit():
        return _page(survey, assignee_form=form, status=422)
    assignee_id = form.assignee.data or None
    window_store.set_assignee(get_db(), survey, form.window.data, assignee_id, g.user["id"])
    flash(f"“{form.window.data}”的差评案件今后" +
          ("将自动指派给所选承办人。" if assignee_id else "不再自动指派。"))
    return redirect(url_for("staff.windows", survey_id=survey_id), 303)


@bp.post("/surveys/<int:survey_id>/kiosks/<int:kiosk_id>/revoke")
@login_required
def kiosk_revoke(survey_id, kiosk_id):
    survey = scoped_survey(survey_id)
    if not window_store.revoke_kiosk(get_db(), survey, kiosk_id, g.user["id"]):
        abort(404)
    flash("已停用该平板：它的网址不再能提交评价。")
    return redirect(url_for("staff.windows", survey_id=survey_id), 303)
