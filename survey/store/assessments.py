"""Assessments (部门整体支出绩效自评): the record, its budget block, its 年度履职目标 block,
the explanations of its findings, finalising and reopening, and the history of every change.

The indicator tree lives in assessment_indicators.py. Every write goes through
`write_transaction` and records who changed what, when, from what, to what.
"""
import json

from ..core.assessment.budget import AMOUNT_FIELDS, BudgetLine, fmt_money, parse_amount
from ..core.assessment.tree import DEFAULT_BANDS, TEMPLATES, load_template
from ..core.labels import ASSESSMENT_STATUSES
from . import StoreError, write_transaction
from . import assessment_indicators as tree
from .assessment_history import AssessmentLockedError as AssessmentLockedError  # raised by every writer here
from .assessment_history import record_change, touch
from .util import audit, dumps, iso, utc_now

STATUSES = ASSESSMENT_STATUSES
DEFAULT_SOURCES = ("财政性资金", "其他资金")
GOAL_KINDS = {"goals": "年度履职目标", "tasks": "年度主要任务"}


def _decode(row: dict) -> dict:
    row = dict(row)
    for key, empty in (("grade_bands", []), ("budget", {}), ("duty_goals", {}), ("snapshot", None)):
        row[key] = json.loads(row[key]) if row.get(key) else empty
    row["grade_bands"] = row["grade_bands"] or DEFAULT_BANDS.to_json()
    return row


_SELECT = (
    "SELECT a.*, d.name AS department_name, u.username AS finalised_by_name FROM assessments a "
    "JOIN departments d ON d.id = a.department_id LEFT JOIN users u ON u.id = a.finalised_by "
)


def get_assessment(db, assessment_id: int, department_id: int | None = None) -> dict | None:
    """The assessment, or None; scoped to a department when one is given."""
    sql, params = _SELECT + "WHERE a.id = ?", [assessment_id]
    if department_id is not None:
        sql += " AND a.department_id = ?"
        params.append(department_id)
    rows = list(db.query(sql, params))
    return _decode(rows[0]) if rows else None


def list_assessments(db, department_id: int | None = None) -> list[dict]:
    where, params = ("WHERE a.department_id = ? ", [department_id]) if department_id else ("", [])
    return [_decode(r) for r in db.query(
        _SELECT + where + "ORDER BY a.year DESC, a.id DESC", params)]


def create_assessment(db, department_id: int, year: int, title: str, *, template: str = "",
                      copy_from: dict | None = None, user_id=None, roots=None) -> int:
    """A new draft from a packaged template (or `roots` already read from it, with reported
    values), or a copy of an earlier assessment's structure."""
    if not title.strip():
        raise StoreError("请填写自评名称")
    if not copy_from and template not in TEMPLATES:
        raise StoreError("请选择自评模板或要复制的往年自评")
    now = iso(utc_now())
    with write_transaction(db):
        assessment_id = db.table("assessments").insert({
            "department_id": department_id, "year": year, "title": title.strip(),
            "template": copy_from["template"] if copy_from else template,
            "grade_bands": dumps(copy_from["grade_bands"] if copy_from else DEFAULT_BANDS.to_json()),
            "budget": "{}", "duty_goals": dumps(_blank_goals(copy_from)), "created_by": user_id,
            "created_at": now, "updated_at": now,
        }).last_pk
        if copy_from:
            tree.copy_tree(db, copy_from["id"], assessment_id)
            sources = [line.source for line in budget_lines(db, copy_from["id"])]
        else:
            tree.insert_template(db, assessment_id, roots or load_template(template))
            sources = list(DEFAULT_SOURCES)
        _insert_lines(db, assessment_id, [BudgetLine(source) for source in sources])
        origin = f"复制自“{copy_from['title']}”" if copy_from else f"模板 {template}"
        record_change(db, assessment_id, user_id, "自评", "创建", None, f"{title.strip()}（{origin}）")
        audit(db, "assessment.create", department_id=department_id, user_id=user_id,
              subject=assessment_id, detail={"year": year, "origin": origin})
    return assessment_id


def _blank_goals(copy_from: dict | None) -> dict:
    """Last year's goals keep their names and contents; what was achieved is this year's to write."""
    if not copy_from:
        return {kind: [] for kind in GOAL_KINDS}
    return {kind: [{**item, "result": ""} for item in copy_from["duty_goals"].get(kind, [])]
            for kind in GOAL_KINDS}


def update_settings(db, assessment: dict, changes: dict, user_id) -> None:
    """Title, year and grade bands; each change kept in the history."""
    labels = {"title": "名称", "year": "年度", "grade_bands": "评价等级分数线"}
    with write_transaction(db):
        touch(db, assessment)
        for key, value in changes.items():
            if value == assessment[key]:
                continue
            stored = dumps(value) if key == "grade_bands" else value
            db.execute(f"UPDATE assessments SET {key} = ? WHERE id = ?",  # nosec B608 - key is a known field
                       [stored, assessment["id"]])
            record_change(db, assessment["id"], user_id, "自评", labels[key], assessment[key], value)


def budget_lines(db, assessment_id: int) -> list[BudgetLine]:
    return [BudgetLine(row["source"], *(parse_amount(row[f], AMOUNT_FIELDS[f]) for f in AMOUNT_FIELDS))
            for row in db.query("SELECT * FROM assessment_budget_lines WHERE assessment_id = ? "
                                "ORDER BY position, id", [assessment_id])]


def _insert_lines(db, assessment_id: int, lines: list[BudgetLine]) -> None:
    db.table("assessment_budget_lines").insert_all(
        {"assessment_id": assessment_id, "position": i, "source": line.source,
         **{f: _amount_text(getattr(line, f)) for f in AMOUNT_FIELDS}}
        for i, line in enumerate(lines, start=1))


def _amount_text(amount) -> str | None:
    return None if amount is None else format(amount.normalize(), "f")


def set_budget_lines(db, assessment: dict, lines: list[BudgetLine], user_id) -> None:
    """Replace the budget block's lines; each changed amount is kept in the history."""
    with write_transaction(db):
        touch(db, assessment)
        before = {line.source: line for line in budget_lines(db, assessment["id"])}
        db.execute("DELETE FROM assessment_budget_lines WHERE assessment_id = ?", [assessment["id"]])
        _insert_lines(db, assessment["id"], lines)
        for line in lines:
            old = before.pop(line.source, BudgetLine(line.source))
            for field, label in AMOUNT_FIELDS.items():
                if getattr(old, field) != getattr(line, field):
                    record_change(db, assessment["id"], user_id, f"预算执行情况·{line.source}", label,
                                  fmt_money(getattr(old, field)), fmt_money(getattr(line, field)))
        for source in before:
            record_change(db, assessment["id"], user_id, f"预算执行情况·{source}", "资金来源",
                          source, None)


def set_duty_goals(db, assessment: dict, goals: dict, user_id) -> None:
    """The 年度履职目标 and 年度主要任务 block: lists of {name, content, result}."""
    with write_transaction(db):
        touch(db, assessment)
        db.execute("UPDATE assessments SET duty_goals = ? WHERE id = ?",
                   [dumps(goals), assessment["id"]])
        for kind, label in GOAL_KINDS.items():
            old, new = assessment["duty_goals"].get(kind, []), goals.get(kind, [])
            if old != new:
                record_change(db, assessment["id"], user_id, label, "内容", _goal_text(old),
                              _goal_text(new))


def _goal_text(items: list[dict]) -> str | None:
    return "\n".join(f"{i['name']}：{i['content']}（完成情况：{i['result'] or '—'}）"
                     for i in items) or None


def explanations(db, assessment_id: int) -> dict[str, dict]:
    return {row["finding"]: row for row in db.query(
        "SELECT e.*, u.username FROM assessment_explanations e LEFT JOIN users u ON u.id = e.user_id "
        "WHERE assessment_id = ?", [assessment_id])}


def explain_finding(db, assessment: dict, finding_id: str, message: str, text: str, user_id) -> None:
    """Write (or clear, with empty text) the explanation of one finding."""
    text = text.strip()
    with write_transaction(db):
        touch(db, assessment)
        old = explanations(db, assessment["id"]).get(finding_id)
        db.execute("DELETE FROM assessment_explanations WHERE assessment_id = ? AND finding = ?",
                   [assessment["id"], finding_id])
        if text:
            db.table("assessment_explanations").insert({
                "assessment_id": assessment["id"], "finding": finding_id, "message": message,
                "explanation": text, "user_id": user_id, "at": iso(utc_now())})
        record_change(db, assessment["id"], user_id, f"问题说明：{message}", "说明",
                      old["explanation"] if old else None, text or None)


def finalise(db, assessment: dict, snapshot: dict, user_id) -> None:
    """Freeze the assessment: values, rules and the survey figures of this moment."""
    now = iso(utc_now())
    with write_transaction(db):
        touch(db, assessment)
        db.execute("UPDATE assessments SET status = 'final', finalised_at = ?, finalised_by = ?, "
                   "snapshot = ? WHERE id = ?", [now, user_id, dumps(snapshot), assessment["id"]])
        record_change(db, assessment["id"], user_id, "自评", "状态", "草稿",
                      f"已定稿（总分 {snapshot['total']}，{snapshot['grade']}）")
        audit(db, "assessment.finalise", department_id=assessment["department_id"],
              user_id=user_id, subject=assessment["id"],
              detail={"total": snapshot["total"], "grade": snapshot["grade"]})


def reopen(db, assessment: dict, user_id, reason: str) -> None:
    """Back to draft (admins only, checked by the caller); the frozen snapshot goes to history."""
    with write_transaction(db):
        current = get_assessment(db, assessment["id"])
        if current["status"] != "final":
            raise StoreError("该自评尚未定稿，无需重新打开")
        db.execute("UPDATE assessments SET status = 'draft', finalised_at = NULL, "
                   "finalised_by = NULL, snapshot = NULL, updated_at = ? WHERE id = ?",
                   [iso(utc_now()), assessment["id"]])
        record_change(db, assessment["id"], user_id, "自评", "定稿快照", current["snapshot"], None)
        record_change(db, assessment["id"], user_id, "自评", "状态",
                      f"已定稿（{current['finalised_at']}）", f"草稿（重新打开：{reason}）")
        audit(db, "assessment.reopen", department_id=assessment["department_id"], user_id=user_id,
              subject=assessment["id"], detail={"reason": reason,
                                                "finalised_at": current["finalised_at"]})


def history(db, assessment_id: int) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT h.*, u.username FROM assessment_history h LEFT JOIN users u ON u.id = h.user_id "
        "WHERE assessment_id = ? ORDER BY h.id DESC", [assessment_id])]
