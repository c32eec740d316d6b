"""The indicator tree of an assessment (一级/二级/三级指标), one row per indicator.

Weights, actuals and scores are kept as the text of a Decimal; a rule as its JSON form. An
indicator may be linked to a figure: a survey's (survey_id + figure name) or the budget
block's (figure name only, survey_id NULL).
"""
import json

from ..core.assessment.rules import rule_from_json
from ..core.assessment.tree import Indicator
from ..core.assessment.vocabulary import (
    BUDGET_FIGURES,
    BUDGET_LINKS,
    COMPARISONS,
    FIELD_LABELS,
    LEVEL_NAMES,
    SURVEY_FIGURES,
    split_target,
)
from . import StoreError, write_transaction
from . import assessment_history as records
from .util import dumps


def _number_text(value) -> str | None:
    if value is None or value == "":
        return None
    return format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)


def _insert(db, assessment_id: int, parent_id, position: int, values: dict) -> int:
    return db.table("assessment_indicators").insert({
        "assessment_id": assessment_id, "parent_id": parent_id, "position": position, **values,
    }).last_pk


def indicator_values(indicator: Indicator) -> dict:
    """The stored columns of a core Indicator (without its children)."""
    comparison, target = split_target(indicator.target)
    return {
        "level": indicator.level, "name": indicator.name, "weight": _number_text(indicator.weight),
        "target": target, "comparison": comparison, "description": indicator.description or "",
        "rule": dumps(indicator.rule) if indicator.rule is not None else None,
        "actual": indicator.actual, "score": _number_text(indicator.score),
        "notes": indicator.notes or "", "reported_total": _number_text(indicator.reported_total),
        "reported_versions": dumps(indicator.reported_versions or {}),
    }


def insert_template(db, assessment_id: int, roots: list[Indicator], parent_id=None) -> None:
    for position, indicator in enumerate(roots, start=1):
        values = indicator_values(indicator)
        if not indicator.children and indicator.name in BUDGET_LINKS:
            values["figure"] = BUDGET_LINKS[indicator.name]
        new_id = _insert(db, assessment_id, parent_id, position, values)
        insert_template(db, assessment_id, indicator.children, new_id)


def copy_tree(db, from_id: int, to_id: int) -> None:
    """Structure, targets, descriptions and rules; not last year's actuals, scores or surveys."""
    new_ids = {}
    for row in rows(db, from_id):
        keep = {key: row[key] for key in ("level", "name", "weight", "target", "comparison",
                                          "description")}
        keep["rule"] = dumps(row["rule"]) if row["rule"] is not None else None
        keep["figure"] = row["figure"] if row["survey_id"] is None else None
        new_ids[row["id"]] = _insert(db, to_id, new_ids.get(row["parent_id"]), row["position"], keep)


def _decode(row: dict) -> dict:
    row = dict(row)
    row["rule"] = json.loads(row["rule"]) if row["rule"] else None
    row["reported_versions"] = json.loads(row["reported_versions"] or "{}")
    return row


def rows(db, assessment_id: int) -> list[dict]:
    """Every indicator in tree order (depth first), each with its number ("2.2.4")."""
    all_rows = [_decode(r) for r in db.query(
        "SELECT * FROM assessment_indicators WHERE assessment_id = ? ORDER BY position, id",
        [assessment_id])]
    children: dict = {}
    for row in all_rows:
        children.setdefault(row["parent_id"], []).append(row)
    ordered: list[dict] = []

    def walk(parent_id, prefix: str):
        for i, row in enumerate(children.get(parent_id, []), start=1):
            row["number"] = f"{prefix}{i}"
            row["child_ids"] = [child["id"] for child in children.get(row["id"], [])]
            ordered.append(row)
            walk(row["id"], f"{prefix}{i}.")

    walk(None, "")
    return ordered


def get_row(db, assessment_id: int, indicator_id: int) -> dict | None:
    return next((row for row in rows(db, assessment_id) if row["id"] == indicator_id), None)


def _subject(row: dict) -> str:
    return f"{row['number']} {row['name']}"


def update_indicator(db, assessment: dict, indicator_id: int, changes: dict, user_id) -> list[str]:
    """Apply the changed fields; returns the labels of what changed (each kept in history)."""
    with write_transaction(db):
        records.touch(db, assessment)
        row = get_row(db, assessment["id"], indicator_id)
        if row is None:
            raise StoreError("找不到该指标")
        changed = []
        for key, value in changes.items():
            if value == row[key]:
                continue
            stored = dumps(value) if key == "rule" and value is not None else value
            db.execute(f"UPDATE assessment_indicators SET {key} = ? WHERE id = ?",  # nosec B608 - key in FIELD_LABELS
                       [stored, row["id"]])
            records.record_change(db, assessment["id"], user_id, _subject(row), FIELD_LABELS[key],
                                  _shown(db, key, row[key]), _shown(db, key, value))
            changed.append(FIELD_LABELS[key])
        return changed


def _shown(db, key: str, value):
    """A value as the history shows it: a rule in words, a survey by its title."""
    if value is None or value == "":
        return None
    if key == "rule":
        return rule_from_json(value).describe()
    if key == "figure":
        return {**SURVEY_FIGURES, **BUDGET_FIGURES}.get(value, value)
    if key == "survey_id":
        found = db.execute("SELECT title FROM surveys WHERE id = ?", [value]).fetchone()
        return f"“{found[0]}”（编号 {value}）" if found else f"编号 {value}"
    if key == "comparison":
        return COMPARISONS.get(value, value)
    return value


def add_indicator(db, assessment: dict, parent_id, name: str, weight: str, user_id) -> int:
    """A new indicator at the end of its parent's children (a level-1 one when no parent)."""
    with write_transaction(db):
        records.touch(db, assessment)
        parent = get_row(db, assessment["id"], parent_id) if parent_id else None
        if parent_id and parent is None:
            raise StoreError("找不到上级指标")
        level = parent["level"] + 1 if parent else 1
        if level > 3:
            raise StoreError("三级指标下不能再添加指标")
        last = db.execute(
            "SELECT coalesce(max(position), 0) FROM assessment_indicators WHERE assessment_id = ?"
            " AND parent_id IS ?", [assessment["id"], parent_id]).fetchone()[0]
        new_id = _insert(db, assessment["id"], parent_id, last + 1, {
            "level": level, "name": name, "weight": weight, "comparison": "word"})
        where = _subject(parent) if parent else "指标体系"
        records.record_change(db, assessment["id"], user_id, where, f"添加{LEVEL_NAMES[level]}", None,
                      f"{name}（分值 {weight}）")
        return new_id


def remove_indicator(db, assessment: dict, indicator_id: int, user_id) -> str:
    with write_transaction(db):
        records.touch(db, assessment)
        row = get_row(db, assessment["id"], indicator_id)
        if row is None:
            raise StoreError("找不到该指标")
        # The foreign key's ON DELETE CASCADE removes the indicators below it too.
        db.execute("DELETE FROM assessment_indicators WHERE id = ?", [indicator_id])
        below = f"（及其 {len(row['child_ids'])} 个下级指标）" if row["child_ids"] else ""
        records.record_change(db, assessment["id"], user_id, _subject(row), f"删除{LEVEL_NAMES[row['level']]}",
                      f"{row['name']}{below}", None)
        return row["name"]


def move_indicator(db, assessment: dict, indicator_id: int, step: int, user_id) -> None:
    """Swap with the previous (step −1) or next (+1) sibling; nothing at either end."""
    with write_transaction(db):
        records.touch(db, assessment)
        all_rows = rows(db, assessment["id"])
        row = next((r for r in all_rows if r["id"] == indicator_id), None)
        if row is None:
            raise StoreError("找不到该指标")
        siblings = [r for r in all_rows if r["parent_id"] == row["parent_id"]]
        index = siblings.index(row) + step
        if not 0 <= index < len(siblings):
            return
        for position, sibling in enumerate(_swapped(siblings, siblings.index(row), index), start=1):
            db.execute("UPDATE assessment_indicators SET position = ? WHERE id = ?",
                       [position, sibling["id"]])
        records.record_change(db, assessment["id"], user_id, _subject(row), "顺序", row["number"],
                      "上移" if step < 0 else "下移")


def _swapped(items: list, i: int, j: int) -> list:
    items = list(items)
    items[i], items[j] = items[j], items[i]
    return items
