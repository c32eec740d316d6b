"""Staff pages that change an assessment: an indicator (fields, rule, link), its actual in the
workspace, adding / moving / removing indicators, the budget block, the 年度履职目标 block, and
the live preview the workspace script asks for while an actual is being typed."""
from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for

from ...core.labels import percent
from ...store import StoreError
from ...store import assessment_indicators as tree
from ...store import assessments as store
from ...store import surveys as survey_store
from ...store.assessment_view import build_view
from ..auth import department_id, login_required
from ..db import get_db
from ..forms.assessments import ActualForm, AddIndicatorForm, BudgetForm, GoalsForm, IndicatorForm
from .assessments import scoped_assessment, to_workspace, workspace
from .base import bp


def _draft(assessment_id: int):
    """The scoped assessment, or a redirect when it is finalised (nothing may change)."""
    assessment = scoped_assessment(assessment_id)
    if assessment["status"] == "final":
        flash("该自评已定稿，内容已冻结；如需修改，请由部门管理员重新打开")
        return assessment, to_workspace(assessment)
    return assessment, None


def _row(assessment: dict, indicator_id: int) -> dict:
    row = tree.get_row(get_db(), assessment["id"], indicator_id)
    if row is None:
        abort(404)
    return row


@bp.route("/assessments/<int:assessment_id>/indicators/<int:indicator_id>", methods=["GET", "POST"])
@login_required
def assessment_indicator(assessment_id, indicator_id):
    assessment, locked = _draft(assessment_id)
    if locked:
        return locked
    row = _row(assessment, indicator_id)
    surveys = survey_store.department_surveys(get_db(), department_id(), archived=None)
    form = IndicatorForm()
    form.set_surveys(surveys)
    if not form.is_submitted():
        form.fill(row)
    else:
        valid = form.validate()
        changes = form.changes(leaf=not row["child_ids"])  # also puts each rule error in place
        if valid and changes is not None:
            changed = tree.update_indicator(get_db(), assessment, indicator_id, changes, g.user["id"])
            flash(f"已保存“{changes['name']}”：{'、'.join(changed)}" if changed else "没有改动")
            return to_workspace(assessment, f"#ind-{indicator_id}")
    view = build_view(get_db(), assessment)
    current = next(r for r in view.rows if r.id == indicator_id)
    status = 422 if form.is_submitted() else 200
    return render_template("staff/assessment_indicator.html", a=assessment, row=row, current=current,
                           form=form, add_form=AddIndicatorForm(formdata=None, parent_id=row["id"]),
                           view=view), status


@bp.post("/assessments/<int:assessment_id>/indicators/<int:indicator_id>/actual")
@login_required
def assessment_actual(assessment_id, indicator_id):
    assessment, locked = _draft(assessment_id)
    if locked:
        return locked
    row = _row(assessment, indicator_id)
    form = ActualForm()
    if not form.validate_on_submit():
        error = "；".join(form.actual.errors) or "请求无效，请刷新页面后重试"
        return workspace(assessment, 422, actual_error=(indicator_id, form.actual.data, error))
    tree.update_indicator(get_db(), assessment, indicator_id, {"actual": form.actual.data or None},
                          g.user["id"])
    return to_workspace(assessment, f"#ind-{row['id']}")


@bp.post("/assessments/<int:assessment_id>/preview")
@login_required
def assessment_preview(assessment_id):
    """Scores as they would be with one actual changed; nothing is stored."""
    assessment = scoped_assessment(assessment_id)
    indicator_id = request.form.get("indicator_id", type=int)
    form = ActualForm()
    if indicator_id is None or not form.validate_on_submit():
        return jsonify({"error": "无法预览：请求无效"}), 400
    view = build_view(get_db(), assessment, {indicator_id: {"actual": form.actual.data or None}})
    return jsonify({
        "scores": {str(r.id): None if r.score is None else str(r.score) for r in view.rows},
        "explanations": {str(r.id): r.explanation for r in view.rows},
        "rates": {level.key: percent(level.score / level.weight, trim=True) if level.weight else "—"
                  for level in view.levels},
        "total": str(view.total), "grade": view.grade, "findings": len(view.findings)})


@bp.post("/assessments/<int:assessment_id>/indicators/add")
@login_required
def assessment_add_indicator(assessment_id):
    assessment, locked = _draft(assessment_id)
    if locked:
        return locked
    form = AddIndicatorForm()
    weight = form.weight_text() if form.validate_on_submit() else None
    parent_id = int(form.parent_id.data) if (form.parent_id.data or "").isdigit() else None
    if weight is None:
        flash("未添加：" + "；".join(e for field in form for e in field.errors))
        return to_workspace(assessment, f"#ind-{parent_id}" if parent_id else "#indicators")
    try:
        new_id = tree.add_indicator(get_db(), assessment, parent_id, form.name.data, weight, g.user["id"])
    except StoreError as error:
        flash(str(error))
        return to_workspace(assessment)
    flash(f"已添加指标“{form.name.data}”，请设置指标值和评分规则")
    return redirect(url_for("staff.assessment_indicator", assessment_id=assessment["id"],
                            indicator_id=new_id))


@bp.post("/assessments/<int:assessment_id>/indicators/<int:indicator_id>/move")
@login_required
def assessment_move(assessment_id, indicator_id):
    assessment, locked = _draft(assessment_id)
    if locked:
        return locked
    _row(assessment, indicator_id)
    step = -1 if request.form.get("direction") == "up" else 1
    tree.move_indicator(get_db(), assessment, indicator_id, step, g.user["id"])
    return to_workspace(assessment, f"#ind-{indicator_id}")


@bp.route("/assessments/<int:assessment_id>/indicators/<int:indicator_id>/delete",
          methods=["GET", "POST"])
@login_required
def assessment_delete_indicator(assessment_id, indicator_id):
    assessment, locked = _draft(assessment_id)
    if locked:
        return locked
    row = _row(assessment, indicator_id)
    form = ActualForm()  # only its CSRF token is used
    if request.method == "POST" and form.validate_on_submit():
        name = tree.remove_indicator(get_db(), assessment, indicator_id, g.user["id"])
        flash(f"已删除指标“{name}”。删除已记入修改记录。")
        return to_workspace(assessment, "#indicators")
    return render_template("staff/assessment_delete.html", a=assessment, row=row, form=form)


@bp.post("/assessments/<int:assessment_id>/budget")
@login_required
def assessment_budget(assessment_id):
    assessment, locked = _draft(assessment_id)
    if locked:
        return locked
    form = BudgetForm()
    lines = form.budget_lines() if form.validate_on_submit() else None
    if lines is None:
        return workspace(assessment, 422, budget_form=form)
    store.set_budget_lines(get_db(), assessment, lines, g.user["id"])
    flash("已保存预算执行情况；预算执行率及其得分已重新计算")
    return to_workspace(assessment, "#budget")


@bp.route("/assessments/<int:assessment_id>/goals", methods=["GET", "POST"])
@login_required
def assessment_goals(assessment_id):
    assessment, locked = _draft(assessment_id)
    if locked:
        return locked
    form = GoalsForm()
    if form.validate_on_submit():
        store.set_duty_goals(get_db(), assessment, form.block(), g.user["id"])
        flash("已保存年度履职目标和年度主要任务")
        return to_workspace(assessment, "#goals")
    if not form.is_submitted():
        goals = assessment["duty_goals"]
        form = GoalsForm(formdata=None, goals=goals.get("goals", []) + [{}],
                         tasks=goals.get("tasks", []) + [{}])
    status = 422 if form.errors else 200
    return render_template("staff/assessment_goals.html", a=assessment, form=form), status
