"""An assessment as shown, printed and exported: stored rows + linked figures -> the engine.

`assemble_view` scores the rows (store.assessment_view.build_view loads them) and returns the
one view every page, export and paragraph reads, so no two of them can disagree. Pure: the
rows, links and times arrive as plain data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from ..exact import linked_value, round_half_up, to_pair
from ..figures import exact_value
from ..labels import percent
from .budget import BUDGET_KEY, BudgetSummary, reported_totals
from .checks import Finding, linked_year
from .rules import rule_from_json
from .tree import AssessmentResult, GradeBands, Indicator, LevelResult, evaluate, grade_bands_from_json
from .values import RuleError, parse_actual, to_decimal
from .vocabulary import BUDGET_FIGURES, SURVEY_FIGURES, target_text

RATE_PLACES = Decimal("0.0001")
_COUNTS = ("issued", "returned", "valid", "valid_rate", "satisfied", "n")


@dataclass
class FindingView:
    id: str
    finding: Finding
    indicator_id: int | None
    number: str
    explanation: dict | None = None


@dataclass
class RowView:
    row: dict
    score: Decimal | None
    explanation: str
    rule_text: str
    link: dict | None
    findings: list[FindingView] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.row["id"]


@dataclass
class AssessmentView:
    assessment: dict
    rows: list[RowView]
    levels: list[LevelResult]
    total: Decimal
    grade: str
    findings: list[FindingView]
    budget: BudgetSummary
    bands: GradeBands

    @property
    def frozen(self) -> bool:
        return self.assessment["status"] == "final"

    @property
    def unexplained(self) -> list[FindingView]:
        return [f for f in self.findings if f.explanation is None]

    @property
    def budget_row(self) -> RowView | None:
        """The indicator the budget block scores (its 分值 and 得分 shown in the block)."""
        return next((r for r in self.rows if r.row["figure"] == "budget_execution_rate"), None)

    def children(self, row_id: int | None) -> list[RowView]:
        return [r for r in self.rows if r.row["parent_id"] == row_id]


def _rate(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(RATE_PLACES, ROUND_HALF_UP)


def survey_link(figures: dict, figure: str, at: str, survey_year: int | None = None) -> dict:
    """What an indicator keeps of a survey's figures: the exact value ("exact", a
    [numerator, denominator] pair, which scoring and every display use), the same rounded once
    to 4 places ("value", for reading by eye), its sample and the survey's year."""
    exact = exact_value(figures, figure)
    if figure == "satisfaction_index" and exact is not None:
        exact = exact / 100
    link = {"source": "survey", "survey_id": figures["survey_id"], "survey_title": figures["title"],
            "figure": figure, "label": SURVEY_FIGURES[figure],
            "value": None if exact is None else float(round_half_up(exact, 4)),
            "exact": to_pair(exact),
            "ci95": figures.get(f"{figure}_ci95"), "at": at,
            "definition": figures.get("definitions", {}).get(figure, ""),
            "survey_year": survey_year}
    link.update({key: figures.get(key) for key in _COUNTS})
    return link


def budget_link(summary: BudgetSummary, figure: str) -> dict:
    value = summary.execution_rate if figure == "budget_execution_rate" else summary.adjustment_rate
    return {"source": "budget", "figure": figure, "label": BUDGET_FIGURES[figure],
            "value": _float(value), "exact": to_pair(_budget_exact(summary, figure)), "n": None}


def _budget_exact(summary: BudgetSummary, figure: str) -> Fraction | None:
    """The budget rate as an exact fraction of the amounts (scored before any rounding)."""
    if figure == "budget_execution_rate":
        if not summary.full_year or summary.executed is None:
            return None
        return Fraction(summary.executed) / Fraction(summary.full_year)
    if not summary.initial:
        return None
    return (Fraction(summary.full_year) - Fraction(summary.initial)) / Fraction(summary.initial)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _decimal(text, what: str) -> Decimal | None:
    return None if text is None or text == "" else to_decimal(text, what)


def to_indicators(rows: list[dict], links: dict, overrides: dict | None = None) -> list[Indicator]:
    """Core Indicators keyed by row id. A budget link stands in for a blank actual only: a typed
    actual is checked against it here (the engine's own check speaks of surveys)."""
    overrides = overrides or {}
    by_id = {}
    for row in rows:
        values = {**row, **overrides.get(row["id"], {})}
        link = links.get(row["id"])
        actual = values["actual"] if values["actual"] not in (None, "") else None
        if link and link["source"] == "budget" and actual is not None:
            link = None
        by_id[row["id"]] = Indicator(
            key=str(row["id"]), name=row["name"], level=row["level"],
            weight=_decimal(values["weight"], "分值") or Decimal(0),
            target=target_text(row["comparison"], row["target"]),
            description=row["description"], actual=actual, rule=values["rule"],
            score=_decimal(values["score"], "得分"), notes=row["notes"],
            reported_total=_decimal(row["reported_total"], "报告得分"), linked_figure=link,
            reported_versions=row["reported_versions"])
    roots = []
    for row in rows:
        parent = by_id.get(row["parent_id"])
        (parent.children if parent else roots).append(by_id[row["id"]])
    return roots


def budget_findings(rows: list[dict], links: dict, overrides: dict) -> list[Finding]:
    findings = []
    for row in rows:
        link = links.get(row["id"])
        actual = overrides.get(row["id"], {}).get("actual", row["actual"])
        if not link or link["source"] != "budget" or actual in (None, "") or link["value"] is None:
            continue
        try:
            typed = parse_actual(actual)
        except RuleError:
            typed = actual
        value = Decimal(str(link["value"]))
        if isinstance(typed, str) or typed.quantize(RATE_PLACES, ROUND_HALF_UP) != value:
            findings.append(Finding(row["name"], "budget_figure_differs",
                                    f"实际完成值 {actual} 与预算执行情况表计算的{link['label']} "
                                    f"{percent(value)} 不一致", str(row["id"])))
    return findings


def _finding_views(findings: list[Finding], numbers: dict, explained: dict) -> list[FindingView]:
    seen: dict[tuple, int] = {}
    views = []
    for finding in findings:
        count = seen[(finding.key, finding.code)] = seen.get((finding.key, finding.code), 0) + 1
        finding_id = f"{finding.key or 'tree'}:{finding.code}:{count}"
        indicator_id = int(finding.key) if finding.key.isdigit() else None
        views.append(FindingView(finding_id, finding, indicator_id,
                                 numbers.get(indicator_id, ""), explained.get(finding_id)))
    return views


def _finding_order(view: FindingView, rows: list[dict]) -> int:
    """The budget block first, then the tree's order, then whole-tree findings (总分 ...)."""
    if view.finding.key == BUDGET_KEY:
        return -1
    position = next((i for i, row in enumerate(rows) if row["id"] == view.indicator_id), None)
    return len(rows) if position is None else position


def _rule_text(rule: dict | None) -> str:
    if rule is None:
        return "未设置评分规则"
    try:
        return rule_from_json(rule).describe()
    except RuleError as error:
        return f"评分规则无效：{error}"


def assemble_view(assessment: dict, rows: list[dict], summary: BudgetSummary, links: dict,
                  explanations: dict, overrides: dict | None = None) -> AssessmentView:
    """Score the stored rows with their linked figures (or `overrides`, e.g. an actual being
    typed): the engine's result, the budget and report checks, and one RowView per row."""
    overrides = overrides or {}
    bands = grade_bands_from_json(assessment["grade_bands"])
    result: AssessmentResult = evaluate(to_indicators(rows, links, overrides), bands)
    findings = (result.findings + budget_findings(rows, links, overrides)
                + reported_totals(summary, assessment["budget"].get("reported", {}))
                + [f for row in rows
                   for f in linked_year(row["name"], str(row["id"]), links.get(row["id"]), assessment["year"])])
    numbers = {row["id"]: row["number"] for row in rows}
    views = _finding_views(findings, numbers, explanations)
    views.sort(key=lambda v: _finding_order(v, rows))
    by_key = {item.indicator.key: item for item in result.indicators}
    row_views = []
    for row in rows:
        item = by_key[str(row["id"])]
        row_views.append(RowView({**row, **overrides.get(row["id"], {})}, item.score,
                                 item.explanation, _rule_text(row["rule"]), links.get(row["id"]),
                                 [v for v in views if v.indicator_id == row["id"]]))
    return AssessmentView(assessment, row_views, result.levels, result.total, result.grade, views,
                          summary, bands)


def snapshot(view: AssessmentView, user: dict | None, at: str) -> dict:
    """What finalising freezes: figures as of now, every row with its score, totals, grade."""
    return {
        "at": at, "by": user["username"] if user else None,
        "figures": {str(r.id): r.link for r in view.rows if r.link},
        "total": str(view.total), "grade": view.grade,
        "levels": [level.to_dict() for level in view.levels],
        "indicators": [{"id": r.id, "number": r.row["number"], "name": r.row["name"],
                        "weight": r.row["weight"], "actual": r.row["actual"],
                        "rule": r.row["rule"], "score": None if r.score is None else str(r.score)}
                       for r in view.rows],
        "budget": {"initial": str(view.budget.initial), "full_year": str(view.budget.full_year),
                   "executed": str(view.budget.executed)},
        "findings": [{"id": f.id, **f.finding.to_dict()} for f in view.findings],
    }


def link_text(link: dict | None) -> str:
    """One line beside a linked indicator: the figure, its sample and its interval."""
    if not link:
        return ""
    if link["source"] == "budget":
        shown = "尚未填写预算执行情况" if link["value"] is None else percent(linked_value(link))
        return f"取自预算执行情况表：{link['label']} {shown}"
    if link["value"] is None:
        return f"关联问卷“{link['survey_title']}”的{link['label']}：暂无有效回答"
    parts = [f"关联问卷“{link['survey_title']}”的{link['label']} {percent(linked_value(link))}"]
    if link.get("n") is not None:
        parts.append(f"样本 {link['n']} 份")
    if link.get("ci95"):
        low, high = link["ci95"]
        parts.append(f"95% 置信区间 {percent(low, 1)}–{percent(high, 1)}")
    return "，".join(parts)
