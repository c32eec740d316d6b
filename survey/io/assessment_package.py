"""The evidence package of one self-evaluation (自评), for auditors: the assessment with its rules
and how each score follows, the annex workbook, the report's paragraphs, and for every linked
survey its figures and the database state they were taken from. Checked by the same
`survey verify` as a survey's package (every file's SHA-256 and the manifest's own digest)."""
import datetime as dt
import zipfile

from ..core.assessment.text import report_text
from ..store.assessment_view import build_view
from ..store.evidence import read_snapshot
from ..store.surveys import get_survey
from ..store.tallies import survey_figures
from ..store.util import iso, utc_now
from .evidence import (
    FORMAT,
    MANIFEST,
    _Package,
    database_state,
    manifest_digest,
    pretty_json,
    sha256_hex,
)
from .evidence_scoring import _assessment_json
from .report_workbook import workbook_bytes

ASSESSMENT_FILE = "assessment.json"


def _linked_survey_ids(view) -> list[int]:
    return sorted({r.row["survey_id"] for r in view.rows if r.row.get("survey_id")})


def build_assessment_package(db, assessment: dict, out, *, now: dt.datetime | None = None) -> dict:
    """Write the package to `out` (a path or binary file); returns the manifest."""
    with read_snapshot(db):
        view = build_view(db, assessment)
        states = {}
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            package = _Package(zf, {})
            scoring = pretty_json(_assessment_json(view))
            package.add(ASSESSMENT_FILE, scoring, "自评：各指标的评分规则、实际值及每项得分的推导")
            package.add("annex.xlsx", workbook_bytes(view), "附件1 部门整体绩效自评表、表3-1、表3-2")
            package.add("report.txt", report_text(view).encode(), "报告段落（由同一数据生成）")
            for survey_id in _linked_survey_ids(view):
                survey = get_survey(db, survey_id, assessment["department_id"])
                if survey is None:
                    continue
                states[str(survey_id)] = database_state(db, survey_id)
                package.add(f"surveys/{survey_id}/figures.json",
                            pretty_json(survey_figures(db, survey)), "关联问卷的全部统计数字")
            manifest = {
                "format": FORMAT, "generated_at": iso(now or utc_now()),
                "assessment": {"id": assessment["id"], "title": assessment["title"],
                               "year": assessment["year"], "status": assessment["status"],
                               "total": str(view.total), "grade": view.grade},
                "database_state": {"assessment_sha256": sha256_hex(scoring), "surveys": states},
                "files": package.files,
                "notes": ["各关联问卷的答卷原始数据、哈希链与筛查记录见该问卷自己的材料包"
                          "（survey evidence SURVEY）"],
            }
            manifest["manifest_sha256"] = manifest_digest(manifest)
            zf.writestr(MANIFEST, pretty_json(manifest))
    return manifest
