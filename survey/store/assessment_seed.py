"""The seed report's 2022 assessment, as reported: the dept-2022 template filled with the
report's own figures (survey/data/seed-2022), contradictions included, so the findings show
what a hand-assembled report gets wrong. `survey demo` loads it."""
import json
from importlib import resources

from ..core.assessment.budget import AMOUNT_FIELDS, BudgetLine, parse_amount
from ..core.assessment.indicator_table import read_indicator_table
from ..core.assessment.tree import Indicator, load_template
from . import assessment_indicators as tree
from . import assessments as records
from . import write_transaction
from .util import dumps

TEMPLATE = "dept-2022"
SATISFACTION_INDICATOR = "群众满意度"


def _data(name: str) -> str:
    return resources.files("survey.data").joinpath("seed-2022", name).read_text(encoding="utf-8")


def _leaves(indicator: Indicator):
    if not indicator.children:
        yield indicator
    for child in indicator.children:
        yield from _leaves(child)


def reported_tree() -> list[Indicator]:
    """The template's indicators with the report's actuals, scores and printed variants."""
    roots = load_template(TEMPLATE)
    reported = {root.name: root for root in read_indicator_table(_data("indicators.csv"))}
    for root in roots:
        source = reported.get(root.name)
        if source is None:
            continue
        root.reported_total = source.reported_total
        by_name = {leaf.name: leaf for leaf in _leaves(source)}
        for leaf in _leaves(root):
            _fill(leaf, by_name.get(leaf.name))
    return roots


def _fill(leaf: Indicator, source: Indicator | None) -> None:
    if source is None:
        return
    leaf.actual, leaf.score, leaf.reported_versions = source.actual, source.score, source.reported_versions
    # A qualitative score is the evaluator's pick inside a tier: the report's 8 of 10 is 80%.
    if leaf.rule and leaf.rule["type"] == "qualitative" and source.rule:
        leaf.rule = source.rule


def is_seed_report(assessment: dict) -> bool:
    """Whether this is the seed report as `survey demo` loads it (its findings are then the
    report's own contradictions, kept on purpose)."""
    report = json.loads(_data("report.json"))
    return (assessment.get("title"), assessment.get("year")) == (report["title"], report["year"])


def create_seed_assessment(db, department_id: int, survey_id: int | None = None) -> int:
    """Create it once (idempotent: an existing one of the same title is returned as is)."""
    report = json.loads(_data("report.json"))
    found = db.execute("SELECT id FROM assessments WHERE department_id = ? AND year = ? AND title = ?",
                       [department_id, report["year"], report["title"]]).fetchone()
    if found:
        return found[0]
    with write_transaction(db):
        assessment_id = records.create_assessment(db, department_id, report["year"], report["title"],
                                                  template=TEMPLATE, roots=reported_tree())
        assessment = records.get_assessment(db, assessment_id)
        lines = [BudgetLine(line["source"], *(parse_amount(line[f], AMOUNT_FIELDS[f])
                                              for f in AMOUNT_FIELDS))
                 for line in report["budget_lines"]]
        records.set_budget_lines(db, assessment, lines, None)
        db.execute("UPDATE assessments SET budget = ? WHERE id = ?",
                   [dumps({"reported": report["budget_reported"]}), assessment_id])
        records.set_duty_goals(db, assessment, report["duty_goals"], None)
        if survey_id is not None:
            _link_satisfaction(db, assessment, survey_id)
    return assessment_id


def _link_satisfaction(db, assessment: dict, survey_id: int) -> None:
    for row in tree.rows(db, assessment["id"]):
        if row["name"] == SATISFACTION_INDICATOR:
            tree.update_indicator(db, assessment, row["id"],
                                  {"survey_id": survey_id, "figure": "satisfaction_rate"}, None)
