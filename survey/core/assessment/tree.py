"""The self-evaluation tree (自评指标体系) and its evaluation.

`evaluate(roots)` scores every indicator (by its rule when it has a rule and an actual, else
by its entered score), adds subtotals up the tree, grades the total and lists findings: every
place where the figures disagree with each other or with the rules. Decimals throughout;
`AssessmentResult.to_dict()` turns them into floats of two places for JSON.
Templates (data files in survey/data/assessment-templates) load with `load_template(name)`.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from ..errors import DomainError
from ..exact import from_pair
from . import checks as checks
from .checks import Finding
from .indicator import Indicator
from .rules import rule_from_json
from .values import RuleError, fmt_number, fmt_score, parse_actual, quantize, to_decimal

__all__ = [
    "DEFAULT_BANDS",
    "TEMPLATES",
    "AssessmentError",
    "AssessmentResult",
    "Finding",
    "GradeBand",
    "GradeBands",
    "Indicator",
    "IndicatorResult",
    "LevelResult",
    "evaluate",
    "grade_bands_from_json",
    "grade_for",
    "indicator_from_dict",
    "indicator_to_dict",
    "load_template",
]

ZERO = Decimal(0)


class AssessmentError(DomainError):
    """An assessment tree, template or grade band setting that cannot be used."""


@dataclass(frozen=True)
class GradeBand:
    grade: str
    at_least: Decimal


@dataclass(frozen=True)
class GradeBands:
    """Grade bands from the best down; each holds totals from its at_least up to the next band."""

    bands: tuple[GradeBand, ...]

    def __post_init__(self):
        if not self.bands:
            raise AssessmentError("评价等级至少要有一档")
        lows = [band.at_least for band in self.bands]
        if any(lower >= higher for higher, lower in itertools.pairwise(lows)):
            raise AssessmentError("评价等级须按分数线从高到低排列，且分数线不能重复")
        if lows[-1] != ZERO:
            raise AssessmentError("最低一档评价等级的分数线应为 0")

    def grade_for(self, total: Decimal) -> str:
        # The lowest band is open below: a negative total (from a negative entered score) grades too.
        return next((band.grade for band in self.bands if total >= band.at_least), self.bands[-1].grade)

    def to_json(self) -> list[dict]:
        return [{"grade": band.grade, "at_least": float(band.at_least)} for band in self.bands]


# The Ministry of Finance's unified bands: 优 90–100, 良 [80, 90), 中 [60, 80), 差 below 60.
DEFAULT_BANDS = GradeBands((
    GradeBand("优", Decimal(90)), GradeBand("良", Decimal(80)),
    GradeBand("中", Decimal(60)), GradeBand("差", ZERO),
))


def grade_bands_from_json(data: list[dict]) -> GradeBands:
    """Bands a province or city sets, e.g. [{"grade": "优", "at_least": 90}, ...]."""
    if not isinstance(data, list) or not all(isinstance(band, dict) for band in data):
        raise AssessmentError("评价等级设置必须是列表，每项含 grade 和 at_least")
    try:
        bands = [GradeBand(str(band["grade"]), to_decimal(band["at_least"], "分数线")) for band in data]
    except KeyError as missing:
        raise AssessmentError(f"评价等级设置缺少 {missing}") from None
    except RuleError as error:
        raise AssessmentError(str(error)) from None
    return GradeBands(tuple(bands))


def grade_for(total: Decimal, bands: GradeBands = DEFAULT_BANDS) -> str:
    return bands.grade_for(total)


@dataclass
class IndicatorResult:
    """One indicator after evaluation; the tree flattened depth first."""

    indicator: Indicator
    score: Decimal | None
    explanation: str

    def to_dict(self) -> dict:
        ind = self.indicator
        return {
            "key": ind.key, "name": ind.name, "level": ind.level, "weight": _float(ind.weight),
            "target": ind.target, "actual": ind.actual, "rule": ind.rule,
            "rule_description": _describe(ind.rule), "entered_score": _float(ind.score),
            "score": _float(self.score), "explanation": self.explanation,
            "reported_total": _float(ind.reported_total),
        }


@dataclass
class LevelResult:
    key: str
    name: str
    weight: Decimal
    score: Decimal
    reported: Decimal | None

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "weight": _float(self.weight),
                "score": _float(self.score), "reported": _float(self.reported)}


@dataclass
class AssessmentResult:
    levels: list[LevelResult]
    total: Decimal
    grade: str
    findings: list[Finding]
    indicators: list[IndicatorResult]

    def to_dict(self) -> dict:
        """JSON-ready: every number a float of two places (None where there is none)."""
        return {
            "levels": [level.to_dict() for level in self.levels],
            "total": _float(self.total), "grade": self.grade,
            "findings": [finding.to_dict() for finding in self.findings],
            "indicators": [result.to_dict() for result in self.indicators],
        }


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(quantize(value))


def _describe(rule: dict | None) -> str:
    try:
        return rule_from_json(rule).describe() if rule is not None else ""
    except RuleError as error:
        return f"评分规则无效：{error}"


def _actual(indicator: Indicator):
    """The actual as written, else the linked survey figure's current value."""
    if indicator.actual is not None and str(indicator.actual).strip():
        return indicator.actual
    figure = indicator.linked_figure or {}
    try:
        if figure.get("exact") is not None:
            return from_pair(figure["exact"])  # the exact fraction, rounded only when scored
        return None if figure.get("value") is None else to_decimal(figure["value"], "关联问卷数值")
    except (RuleError, TypeError, ValueError, ZeroDivisionError):
        return None  # reported by checks.linked_figure when an actual is written


def _score_leaf(indicator: Indicator) -> tuple[Decimal | None, str, list[Finding]]:
    actual = _actual(indicator)
    findings = checks.missing_figures(indicator, actual)
    computed, explanation = None, ""
    if not findings:
        try:
            result = rule_from_json(indicator.rule).score(indicator.weight, parse_actual(actual))
            computed, explanation = result.score, result.explanation
        except RuleError as error:
            findings += checks.rule_failed(indicator, error)
    findings += checks.entered_score(indicator, computed)
    # A score entered by hand (or printed in a report) counts as entered: a checker reports a
    # disagreement with the rule as a finding, it never silently "corrects" the figure.
    if indicator.score is not None:
        entered = quantize(indicator.score)
        note = f"按填报得分 {fmt_number(indicator.score)} 计"
        if computed is not None and computed != entered:
            note += f"（按评分规则应为 {fmt_score(computed)}：{explanation}）"
        return entered, note, findings
    if computed is not None:
        return computed, explanation, findings
    return None, "无法计分", findings


def _evaluate(indicator: Indicator, out: list[IndicatorResult], findings: list[Finding]):
    """Score `indicator` and everything below it; append results and findings in tree order."""
    findings += checks.reported_versions(indicator) + checks.linked_figure(indicator)
    if not indicator.children:
        score, explanation, leaf_findings = _score_leaf(indicator)
        findings += leaf_findings + checks.unexplained_rule(indicator) + checks.linked_precision(indicator)
        out.append(IndicatorResult(indicator, score, explanation))
        return score
    result = IndicatorResult(indicator, None, "")
    out.append(result)
    scores = [_evaluate(child, out, findings) for child in indicator.children]
    known = [score for score in scores if score is not None]
    result.score = quantize(sum(known, ZERO)) if known else None
    parts = " + ".join(map(fmt_score, known))
    result.explanation = f"下级指标得分合计：{parts} = {fmt_score(result.score)}" if known else "下级指标均无法计分"
    findings += checks.child_weights(indicator) + checks.reported_total(indicator, result.score)
    return result.score


def evaluate(roots: list[Indicator], bands: GradeBands = DEFAULT_BANDS) -> AssessmentResult:
    """Scores, subtotals, total (sum of level-1 subtotals), grade and findings of a whole tree."""
    out: list[IndicatorResult] = []
    findings = checks.level1_weights(roots)
    levels = []
    for root in roots:
        score = _evaluate(root, out, findings)
        levels.append(LevelResult(root.key, root.name, root.weight, score or ZERO, root.reported_total))
    total = quantize(sum((level.score for level in levels), ZERO))
    findings += checks.reported_grand_total(levels, total)
    return AssessmentResult(levels, total, bands.grade_for(total), findings, out)


def _optional_decimal(value, what: str) -> Decimal | None:
    return None if value is None or value == "" else to_decimal(value, what)


def indicator_from_dict(data: dict, level: int = 1) -> Indicator:
    """An indicator (and its children) from plain JSON data; numbers become Decimals."""
    if not isinstance(data, dict) or not isinstance(data.get("children", []), list):
        raise AssessmentError("指标数据必须是 JSON 对象，children 必须是列表")
    try:
        children = [indicator_from_dict(child, level + 1) for child in data.get("children", [])]
        return Indicator(
            key=str(data["key"]), name=str(data["name"]), level=int(data.get("level", level)),
            weight=to_decimal(data["weight"], f"指标“{data['name']}”的分值"),
            target=data.get("target", ""), description=data.get("description", ""),
            actual=data.get("actual"), rule=data.get("rule"),
            score=_optional_decimal(data.get("score"), "得分"), children=children,
            notes=data.get("notes", ""),
            reported_total=_optional_decimal(data.get("reported_total"), "报告得分"),
            linked_figure=data.get("linked_figure"),
            reported_versions=data.get("reported_versions", {}),
        )
    except KeyError as missing:
        raise AssessmentError(f"指标数据缺少 {missing}") from None
    except RuleError as error:
        raise AssessmentError(str(error)) from None


def indicator_to_dict(indicator: Indicator) -> dict:
    """Plain JSON data for an indicator; empty optional fields are left out."""
    data = {"key": indicator.key, "name": indicator.name, "level": indicator.level,
            "weight": _json_number(indicator.weight)}
    optional = {
        "target": indicator.target, "description": indicator.description, "actual": indicator.actual,
        "rule": indicator.rule, "score": _json_number(indicator.score), "notes": indicator.notes,
        "reported_total": _json_number(indicator.reported_total),
        "linked_figure": indicator.linked_figure, "reported_versions": indicator.reported_versions,
        "children": [indicator_to_dict(child) for child in indicator.children],
    }
    data.update({key: value for key, value in optional.items() if value not in (None, "", [], {})})
    return data


def _json_number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


TEMPLATES: dict[str, str] = {
    "dept-2022": "部门整体支出绩效自评表（2022 年度，预算执行 10、投入管理 30、产出 25、效益 35）",
    "project-national": "项目支出绩效自评表（全国通用：预算执行率 10、产出 50、效益 30、满意度 10）",
}


def load_template(name: str) -> list[Indicator]:
    """The level-1 indicators of a packaged template, e.g. load_template("dept-2022")."""
    if name not in TEMPLATES:
        raise AssessmentError(f"没有名为“{name}”的自评模板；可用的模板有 {'、'.join(TEMPLATES)}")
    folder = resources.files("survey.data").joinpath("assessment-templates")
    data = json.loads(folder.joinpath(f"{name}.json").read_text(encoding="utf-8"))
    return [indicator_from_dict(root) for root in data["indicators"]]
