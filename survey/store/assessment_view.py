"""Load an assessment for its view: stored rows, budget lines, explanations and the figures its
indicators link to (live from their survey or the budget block while a draft; from the frozen
snapshot once finalised). The scoring itself is core.assessment.view.assemble_view.
"""
from ..core.assessment.budget import BudgetSummary, summarise
from ..core.assessment.view import AssessmentView, assemble_view, budget_link, survey_link
from ..core.assessment.view import snapshot as frozen_snapshot
from ..core.assessment.vocabulary import BUDGET_FIGURES, SURVEY_FIGURES
from . import assessment_indicators as tree
from . import assessments as records
from .surveys import get_survey
from .tallies import survey_figures
from .util import iso, utc_now


def live_links(db, rows: list[dict], summary: BudgetSummary) -> dict[int, dict]:
    cache: dict[int, tuple | None] = {}
    now = iso(utc_now())
    links = {}
    for row in rows:
        if row["figure"] in BUDGET_FIGURES:
            links[row["id"]] = budget_link(summary, row["figure"])
        elif row["figure"] in SURVEY_FIGURES and row["survey_id"]:
            if row["survey_id"] not in cache:
                survey = get_survey(db, row["survey_id"])
                cache[row["survey_id"]] = (survey_figures(db, survey), survey["year"]) if survey else None
            if cache[row["survey_id"]] is not None:
                figures, year = cache[row["survey_id"]]
                links[row["id"]] = survey_link(figures, row["figure"], now, year)
    return links


def build_view(db, assessment: dict, overrides: dict | None = None) -> AssessmentView:
    """Score the assessment as it stands (or with `overrides`, e.g. an actual being typed)."""
    rows = tree.rows(db, assessment["id"])
    summary = summarise(records.budget_lines(db, assessment["id"]))
    frozen = assessment["status"] == "final" and assessment["snapshot"]
    links = ({int(k): v for k, v in assessment["snapshot"]["figures"].items()} if frozen
             else live_links(db, rows, summary))
    return assemble_view(assessment, rows, summary, links, records.explanations(db, assessment["id"]),
                         overrides)


def snapshot(view: AssessmentView, user: dict | None) -> dict:
    """What finalising freezes, stamped now."""
    return frozen_snapshot(view, user, iso(utc_now()))
