"""The scoring part of an evidence package: for every self-evaluation (自评) with an indicator
linked to the survey, the scoring rules applied and how each score follows from them.
"""
import json

from ..core.errors import DomainError
from ..store.assessment_view import build_view
from ..store.assessments import get_assessment
from ..store.evidence import linked_assessment_ids


def _text(value) -> str | None:
    return None if value is None else str(value)


def _row(view_row) -> dict:
    row = view_row.row
    return {"number": row["number"], "name": row["name"], "level": row["level"],
            "weight": row["weight"], "target": row["target"], "description": row["description"],
            "rule": row["rule"], "rule_text": view_row.rule_text, "actual": row["actual"],
            "linked_figure": view_row.link, "entered_score": row["score"],
            "score": _text(view_row.score), "how_the_score_follows": view_row.explanation}


def _assessment_json(view) -> dict:
    a = view.assessment
    return {
        "assessment": {k: a.get(k) for k in ("id", "title", "year", "status", "finalised_at",
                                             "finalised_by_name", "department_name")},
        "grade_bands": a["grade_bands"], "total": _text(view.total), "grade": view.grade,
        "levels": [level.to_dict() for level in view.levels],
        "indicators": [_row(r) for r in view.rows],
        "findings": [{"id": f.id, "indicator": f.number, **f.finding.to_dict(),
                      "explanation": f.explanation} for f in view.findings],
    }


def assessment_files(db, survey: dict) -> tuple[dict[str, bytes], str]:
    """{path: JSON bytes} for each linked assessment, and a note for the manifest."""
    files = {}
    try:
        for assessment_id in linked_assessment_ids(db, survey):
            view = build_view(db, get_assessment(db, assessment_id))
            files[f"assessments/{assessment_id}.json"] = (json.dumps(
                _assessment_json(view), ensure_ascii=False, indent=2, sort_keys=True,
                default=_text) + "\n").encode()
    except (DomainError, KeyError, TypeError) as error:
        return {}, f"自评评分未能导出：{error}"
    if not files:
        return {}, "没有自评指标关联本问卷，材料包不含评分规则"
    return files, f"含 {len(files)} 份关联自评的评分规则及每项得分的推导"

