"""Staff pages: the department's self-evaluations (部门整体支出绩效自评) — list, create, the
workspace, findings and their explanations, finalise and reopen, print, XLSX, text, history.
Editing the tree, the budget block and the goals is in assessment_edit.py."""
import io
from decimal import Decimal

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from ...core.assessment.budget import fmt_money
from ...core.assessment.text import points, report_text
from ...core.assessment.tree import TEMPLATES
from ...core.assessment.values import fmt_number
from ...core.assessment.view import link_text
from ...core.labels import china_time, percent
from ...io.report_workbook import annex_rows, shown_actual, target_shown, workbook_bytes
from ...store import StoreError
from ...store import assessments as store
from ...store.assessment_seed import is_seed_report
from ...store.assessment_view import build_view, snapshot
from ..auth import admin_required, department_id, login_required
from ..db import get_db
from ..downloads import content_disposition
from ..forms.assessment_rules import choices
from ..forms.assessments import (
    ActualForm,
    AddIndicatorForm,
    BudgetForm,
    ExplainForm,
    FinaliseForm,
    NewAssessmentForm,
    ReopenForm,
    SettingsForm,
    bands_text,
)
from .base import bp


@bp.app_context_processor
def _assessment_helpers():
    return {"points": points, "num": plain_decimal, "pct": lambda rate: percent(rate, trim=True),
            "money": fmt_money, "link_text": link_text,
            "shown_actual": shown_actual, "target_shown": target_shown,
            "score2": lambda v: "—" if v is None else str(Decimal(v).quantize(Decimal("0.01"))),
            "assessment_statuses": store.STATUSES, "as_time": lambda stored: china_time(stored, empty="")}


def plain_decimal(value) -> str:
    """A stored weight or bound as a person writes it: 10, 0.5, 90; '' when unset."""
    return "" if value is None or value == "" else fmt_number(Decimal(str(value)))


def scoped_assessment(assessment_id: int) -> dict:
    """The assessment if it belongs to the user's department, else 404."""
    assessment = store.get_assessment(get_db(), assessment_id, department_id())
    if assessment is None:
        abort(404)
    return assessment


def to_workspace(assessment: dict, anchor: str = ""):
    return redirect(url_for("staff.assessment", assessment_id=assessment["id"]) + anchor)


def _summary(assessment: dict) -> dict:
    if assessment["status"] == "final" and assessment["snapshot"]:
        shot = assessment["snapshot"]
        return {**assessment, "total": Decimal(shot["total"]), "grade": shot["grade"],
                "open_findings": None}
    view = build_view(get_db(), assessment)
    return {**assessment, "total": view.total, "grade": view.grade,
            "open_findings": len(view.unexplained)}


@bp.get("/assessments")
@login_required
def assessments():
    rows = [_summary(a) for a in store.list_assessments(get_db(), department_id())]
    return render_template("staff/assessments.html", assessments=rows)


def _origin_choices() -> list:
    earlier = store.list_assessments(get_db(), department_id())
    return choices({**{f"template:{k}": f"模板：{v}" for k, v in TEMPLATES.items()},
                    **{f"copy:{a['id']}": f"复制往年：{a['year']} 年 {a['title']}" for a in earlier}})


@bp.route("/assessments/new", methods=["GET", "POST"])
@login_required
def assessment_new():
    form = NewAssessmentForm()
    form.origin.choices = _origin_choices()
    if form.validate_on_submit():
        kind, _, ref = form.origin.data.partition(":")
        copy_from = scoped_assessment(int(ref)) if kind == "copy" else None
        try:
            new_id = store.create_assessment(
                get_db(), department_id(), form.year.data, form.title.data,
                template=ref if kind == "template" else "", copy_from=copy_from, user_id=g.user["id"])
        except StoreError as error:
            form.origin.errors.append(str(error))
        else:
            flash("已创建自评。请逐项填写实际完成值，分数随之自动计算。")
            return redirect(url_for("staff.assessment", assessment_id=new_id))
    status = 422 if form.errors else 200
    return render_template("staff/assessment_new.html", form=form), status


def workspace(assessment: dict, status: int = 200, **forms):
    view = build_view(get_db(), assessment)
    settings = forms.pop("settings_form", None) or SettingsForm(
        formdata=None, title=assessment["title"], year=assessment["year"],
        grade_bands=bands_text(assessment["grade_bands"]))
    budget = forms.pop("budget_form", None) or _budget_form(view)
    return render_template(
        "staff/assessment.html", view=view, a=assessment, settings_form=settings,
        seed_note=_seed_note(view, assessment),
        budget_form=budget, actual_form=ActualForm(formdata=None), explain_form=ExplainForm(formdata=None),
        add_form=forms.pop("add_form", None) or AddIndicatorForm(formdata=None),
        actual_error=forms.pop("actual_error", None), **forms), status


def _seed_note(view, assessment: dict) -> dict | None:
    """For the demo's seed report: how many findings are the report's own contradictions and
    how many come from the survey the demo links to it (a 2026 survey, a 2022 report)."""
    if not is_seed_report(assessment):
        return None
    linked = sum(1 for f in view.findings if f.finding.code.startswith("linked_"))
    return {"report": len(view.findings) - linked, "linked": linked}


def _budget_form(view) -> BudgetForm:
    lines = [{"source": line.source, **{f: fmt_money(getattr(line, f)) for f in
                                         ("initial", "full_year", "executed")}}
             for line in view.budget.lines]
    return BudgetForm(formdata=None, lines=lines + [{}])


@bp.get("/assessments/<int:assessment_id>")
@login_required
def assessment(assessment_id):
    return workspace(scoped_assessment(assessment_id))


@bp.post("/assessments/<int:assessment_id>/settings")
@login_required
def assessment_settings(assessment_id):
    assessment = scoped_assessment(assessment_id)
    form = SettingsForm()
    bands = form.bands_json() if form.validate_on_submit() else None
    if bands is None:
        return workspace(assessment, 422, settings_form=form)
    try:
        store.update_settings(get_db(), assessment, {"title": form.title.data, "year": form.year.data,
                                                     "grade_bands": bands}, g.user["id"])
    except StoreError as error:
        flash(str(error))
    return to_workspace(assessment, "#settings")


@bp.post("/assessments/<int:assessment_id>/explain")
@login_required
def assessment_explain(assessment_id):
    assessment = scoped_assessment(assessment_id)
    form = ExplainForm()
    view = build_view(get_db(), assessment)
    finding = next((f for f in view.findings if f.id == form.finding.data), None)
    if not form.validate_on_submit() or finding is None:
        flash("该问题已不存在或说明无效，请刷新页面后重试")
        return to_workspace(assessment, "#findings")
    try:
        store.explain_finding(get_db(), assessment, finding.id, finding.finding.message,
                              form.explanation.data or "", g.user["id"])
    except StoreError as error:
        flash(str(error))
    return to_workspace(assessment, "#findings")


@bp.route("/assessments/<int:assessment_id>/finalise", methods=["GET", "POST"])
@login_required
def assessment_finalise(assessment_id):
    assessment = scoped_assessment(assessment_id)
    if assessment["status"] == "final":
        flash("该自评已定稿")
        return to_workspace(assessment)
    view = build_view(get_db(), assessment)
    form = FinaliseForm()
    if form.validate_on_submit():
        if view.unexplained and not form.acknowledge.data:
            form.acknowledge.errors.append(
                f"尚有 {len(view.unexplained)} 项问题未说明，请先说明，或勾选此项确认仍要定稿")
        else:
            store.finalise(get_db(), assessment, snapshot(view, g.user), g.user["id"])
            flash(f"已定稿：总分 {view.total}，评价等级“{view.grade}”。数值（含问卷数值）已冻结。")
            return to_workspace(assessment)
    status = 422 if form.errors else 200
    return render_template("staff/assessment_finalise.html", view=view, a=assessment, form=form), status


@bp.route("/assessments/<int:assessment_id>/reopen", methods=["GET", "POST"])
@admin_required
def assessment_reopen(assessment_id):
    assessment = scoped_assessment(assessment_id)
    form = ReopenForm()
    if assessment["status"] != "final":
        flash("该自评尚未定稿，无需重新打开")
        return to_workspace(assessment)
    if form.validate_on_submit():
        store.reopen(get_db(), assessment, g.user["id"], form.reason.data)
        flash("已重新打开，自评回到草稿状态；关联的问卷数值恢复为实时数值。此操作已记录。")
        return to_workspace(assessment)
    status = 422 if form.errors else 200
    return render_template("staff/assessment_reopen.html", a=assessment, form=form), status


@bp.get("/assessments/<int:assessment_id>/print")
@login_required
def assessment_print(assessment_id):
    view = build_view(get_db(), scoped_assessment(assessment_id))
    return render_template("staff/assessment_print.html", view=view, a=view.assessment,
                           text=report_text(view), annex=annex_rows(view))


def _filename(assessment: dict, ext: str) -> str:
    return content_disposition(f"{assessment['year']}年度部门整体绩效自评表-{assessment['id']}.{ext}",
                               f"assessment-{assessment['id']}.{ext}")


@bp.get("/assessments/<int:assessment_id>/report.xlsx")
@login_required
def assessment_xlsx(assessment_id):
    view = build_view(get_db(), scoped_assessment(assessment_id))
    return Response(workbook_bytes(view), mimetype=
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": _filename(view.assessment, "xlsx")})


@bp.get("/assessments/<int:assessment_id>/evidence.zip")
@login_required
def assessment_evidence(assessment_id):
    from ...io.assessment_package import build_assessment_package
    assessment = scoped_assessment(assessment_id)
    out = io.BytesIO()
    build_assessment_package(get_db(), assessment, out)
    return Response(out.getvalue(), mimetype="application/zip",
                    headers={"Content-Disposition": _filename(assessment, "zip")})


@bp.get("/assessments/<int:assessment_id>/text")
@login_required
def assessment_text(assessment_id):
    view = build_view(get_db(), scoped_assessment(assessment_id))
    text = report_text(view)
    if request.args.get("format") == "txt":
        return Response(text, mimetype="text/plain; charset=utf-8",
                        headers={"Content-Disposition": _filename(view.assessment, "txt")})
    return render_template("staff/assessment_text.html", view=view, a=view.assessment, text=text)


@bp.get("/assessments/<int:assessment_id>/history")
@login_required
def assessment_history(assessment_id):
    assessment = scoped_assessment(assessment_id)
    return render_template("staff/assessment_history.html", a=assessment,
                           history=store.history(get_db(), assessment_id))
