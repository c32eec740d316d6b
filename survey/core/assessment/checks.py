"""Consistency checks on an assessment tree: each disagreement becomes a Finding in Chinese.

A checker reports what disagrees and where; it never corrects a figure (domain.md: "A checker
should report such mismatches, not silently 'correct' them").
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..exact import from_pair, round_half_up
from ..labels import percent
from ..stats import PRECISION_TARGET, sample_size_needed, wilson_from_proportion
from .indicator import Indicator
from .values import RuleError, fmt_number, fmt_score, parse_actual, quantize, to_decimal

LEVEL1_TOTAL = Decimal(100)


@dataclass(frozen=True)
class Finding:
    """One inconsistency or gap: the indicator's name, a stable code, a Chinese message."""

    indicator: str
    code: str
    message: str
    key: str = ""

    def to_dict(self) -> dict:
        return {"indicator": self.indicator, "code": self.code, "message": self.message, "key": self.key}


def _finding(indicator: Indicator, code: str, message: str) -> Finding:
    return Finding(indicator.name, code, message, indicator.key)


def missing_figures(indicator: Indicator, actual) -> list[Finding]:
    """A rule with no actual, or an actual with no rule: the score cannot be computed or checked."""
    entered = indicator.score
    if indicator.rule is None:
        message = (
            "缺少评分规则，也没有填写得分，无法计分" if entered is None
            else f"没有写明评分规则，得分 {fmt_number(entered)} 无法核对"
        )
        return [_finding(indicator, "missing_rule", message)]
    if actual is None:
        message = (
            "缺少实际完成值，无法按评分规则计分" if entered is None
            else f"缺少实际完成值，得分 {fmt_number(entered)} 无法核对"
        )
        return [_finding(indicator, "missing_actual", message)]
    return []


def entered_score(indicator: Indicator, computed: Decimal | None) -> list[Finding]:
    """An entered score outside 0..weight, or different from what the rule gives."""
    entered = indicator.score
    if entered is None:
        return []
    findings = []
    if entered > indicator.weight:
        findings.append(_finding(
            indicator, "score_above_weight",
            f"得分 {fmt_number(entered)} 超过分值 {fmt_number(indicator.weight)}",
        ))
    if entered < 0:
        findings.append(_finding(indicator, "score_negative", f"得分 {fmt_number(entered)} 为负数"))
    if computed is not None and quantize(entered) != computed:
        findings.append(_finding(
            indicator, "score_mismatch",
            f"得分 {fmt_number(entered)} 与评分规则计算结果 {fmt_score(computed)} 不一致",
        ))
    return findings


def rule_failed(indicator: Indicator, error: RuleError) -> list[Finding]:
    return [_finding(indicator, "rule_error", f"无法按评分规则计分：{error}")]


def _same_actual(first: str, second: str) -> bool:
    try:
        return parse_actual(first) == parse_actual(second)
    except RuleError:
        return str(first).strip() == str(second).strip()


def _same_score(first, second) -> bool:
    try:
        return Decimal(str(first)) == Decimal(str(second))
    except ArithmeticError:
        return str(first).strip() == str(second).strip()


def _same_target(first: str, second: str) -> bool:
    def normal(text: str) -> str:
        return "".join(text.split()).replace(">=", "≥").replace("<=", "≤").replace("％", "%")

    return normal(first) == normal(second)


def reported_versions(indicator: Indicator) -> list[Finding]:
    """The same figure printed differently in two places of a report (表3-2 vs 附件1 vs 正文)."""
    findings = []
    versions = indicator.reported_versions
    for source, other in versions.get("actual", {}).items():
        if indicator.actual is not None and not _same_actual(indicator.actual, other):
            findings.append(_finding(
                indicator, "reported_actual_differs",
                f"实际完成值“{indicator.actual}”与{source}所载“{other}”不一致",
            ))
    for source, other in versions.get("score", {}).items():
        if indicator.score is not None and not _same_score(indicator.score, other):
            findings.append(_finding(
                indicator, "reported_score_differs",
                f"得分 {fmt_number(indicator.score)} 与{source}所载 {other} 不一致",
            ))
    for source, other in versions.get("target", {}).items():
        if not _same_target(indicator.target, other):
            findings.append(_finding(
                indicator, "reported_target_differs",
                f"指标值“{indicator.target}”与{source}所载“{other}”不一致",
            ))
    return findings


def linked_figure(indicator: Indicator) -> list[Finding]:
    """An actual typed in by hand that no longer matches the survey figure it is linked to."""
    figure = indicator.linked_figure
    if not figure or figure.get("value") is None or indicator.actual is None:
        return []
    try:
        actual = parse_actual(indicator.actual)
        value = (from_pair(figure["exact"]) if figure.get("exact") is not None
                 else to_decimal(figure["value"], "关联问卷数值"))
    except (RuleError, TypeError, ValueError, ZeroDivisionError):
        return [_finding(indicator, "linked_figure_differs", "实际完成值或关联问卷数值无法读取")]
    if isinstance(actual, str):
        return []
    # Compare at the precision the actual was written with (whole percent at least): "96%"
    # matches 0.9583; the linked value is rounded once, from its exact fraction.
    if round_half_up(value, -min(actual.as_tuple().exponent, -2)) == actual:
        return []
    sample = f"，样本 {figure['n']} 份" if figure.get("n") is not None else ""
    return [_finding(
        indicator, "linked_figure_differs",
        f"实际完成值 {indicator.actual} 与关联问卷的当前数值 {percent(value)} 不一致{sample}",
    )]


def linked_year(name: str, key: str, link: dict | None, assessment_year) -> list[Finding]:
    """A survey of another year linked to an assessment: its figure measures another year's
    work (the demo links its 2026 survey to the 2022 report on purpose, to show this)."""
    if not link or link.get("source") != "survey":
        return []
    survey_year = link.get("survey_year")
    if survey_year in (None, "") or assessment_year in (None, "") or survey_year == assessment_year:
        return []
    return [Finding(name, "linked_year_differs",
                    f"关联问卷年度与评价年度不一致：问卷“{link.get('survey_title', '')}”为 {survey_year} 年度，"
                    f"本评价为 {assessment_year} 年度", key)]


def child_weights(indicator: Indicator) -> list[Finding]:
    total = sum((child.weight for child in indicator.children), Decimal(0))
    if total == indicator.weight:
        return []
    return [_finding(
        indicator, "child_weights",
        f"下级指标分值合计 {fmt_number(total)} 与本级分值 {fmt_number(indicator.weight)} 不一致",
    )]


def reported_entered_sum(indicator: Indicator) -> Decimal | None:
    """What the report itself adds up to below an indicator, or None if a figure is missing."""
    if not indicator.children:
        return indicator.score
    if indicator.reported_total is not None:
        return indicator.reported_total
    parts = [reported_entered_sum(child) for child in indicator.children]
    return None if None in parts else sum(parts, Decimal(0))


def reported_total(indicator: Indicator, computed: Decimal | None) -> list[Finding]:
    """A level total as reported that is not the sum of its indicators, as reported or as computed."""
    reported = indicator.reported_total
    if reported is None:
        return []
    parts = [reported_entered_sum(child) for child in indicator.children]
    entered = None if None in parts else quantize(sum(parts, Decimal(0)))
    findings = []
    if entered is not None and entered != quantize(reported):
        findings.append(_finding(
            indicator, "reported_total_differs",
            f"报告得分 {fmt_number(reported)} 与其下各指标得分合计 {fmt_number(entered)} 不一致",
        ))
    if computed is not None and computed not in (quantize(reported), entered):
        findings.append(_finding(
            indicator, "reported_total_vs_rules",
            f"报告得分 {fmt_number(reported)} 与按评分规则计算的合计 {fmt_score(computed)} 不一致",
        ))
    return findings


def level1_weights(roots: list[Indicator]) -> list[Finding]:
    total = sum((root.weight for root in roots), Decimal(0))
    if total == LEVEL1_TOTAL:
        return []
    return [Finding("指标体系", "level1_weights", f"一级指标分值合计 {fmt_number(total)}，应为 100")]


def reported_grand_total(levels, total: Decimal) -> list[Finding]:
    """The report's total (the sum of its reported level scores, 表3-1 合计) against the sum of
    the indicators' scores."""
    if not levels or any(level.reported is None for level in levels):
        return []
    reported = sum((level.reported for level in levels), Decimal(0))
    if quantize(reported) == total:
        return []
    return [Finding("总分", "reported_grand_total_differs",
                    f"报告总分 {fmt_number(reported)} 与各指标得分合计 {fmt_score(total)} 不一致")]


def unexplained_rule(indicator: Indicator) -> list[Finding]:
    """A score no written rule explains: its rule's fraction was read back from the entered
    score (so the two can never disagree), and either the indicator has a measured figure
    (a survey) that no rule turns into that score, or the score is below full marks with no
    stated reason. Full marks read back as 达成预期 is the stated qualitative rule's own top,
    so it is not named. A score with no rule at all is missing_rule."""
    rule = indicator.rule
    if not isinstance(rule, dict) or not rule.get("from_score"):
        return []
    measured = bool(indicator.linked_figure and indicator.linked_figure.get("n"))
    try:
        partial = to_decimal(rule.get("fraction", 1), "比例") < 1
    except RuleError:
        partial = True
    if not (measured or partial):
        return []
    entered = "" if indicator.score is None else f"填报得分 {fmt_number(indicator.score)} "
    sample = _sample_phrase(indicator.linked_figure)
    return [_finding(
        indicator, "rule_inferred_from_score",
        f"评分规则由{entered}反推（按分值的 {fmt_number(to_decimal(rule.get('fraction', 0), '比例') * 100)}% "
        f"计分），并非写明的评分规则，得分无法核对{sample}；请写明评分规则（如分档计分）",
    )]


def _sample_phrase(figure: dict | None) -> str:
    if not figure or figure.get("n") in (None, 0):
        return ""
    rate = _linked_exact(figure)
    shown = "" if rate is None else f"（{percent(rate)}）"
    satisfied = figure.get("satisfied")
    if satisfied is not None:
        return f"：调查 {figure['n']} 人，{satisfied} 人满意{shown}，未写明该结果对应多少分"
    return f"：关联问卷样本 {figure['n']} 份{shown}，未写明该结果对应多少分"


def _linked_exact(figure: dict):
    try:
        if figure.get("exact") is not None:
            return from_pair(figure["exact"])
        return None if figure.get("value") is None else to_decimal(figure["value"], "关联问卷数值")
    except (RuleError, TypeError, ValueError, ZeroDivisionError):
        return None


def _rule_target(rule) -> float | None:
    """The proportion a rule is judged at (its target), for the sample size it needs."""
    if isinstance(rule, dict) and rule.get("type") == "proportional":
        try:
            target = float(to_decimal(rule.get("target"), "指标值"))
        except RuleError:
            return None
        return target if 0 < target < 1 else None
    return None


def linked_precision(indicator: Indicator) -> list[Finding]:
    """A survey figure too imprecise for the stated precision (±5 points at 95% confidence):
    its interval, and the number of answers needed."""
    figure = indicator.linked_figure
    if not figure or figure.get("source", "survey") != "survey" or not figure.get("n"):
        return []
    rate = _linked_exact(figure)
    n = figure["n"]
    if rate is None or not 0 <= rate <= 1 or not isinstance(n, (int, float)) or n <= 0:
        return []
    interval = wilson_from_proportion(float(rate), n)
    if interval is None or (interval[1] - interval[0]) / 2 <= PRECISION_TARGET:
        return []
    low, high = interval
    need = f"按 p = 50% 需约 {sample_size_needed(0.5, PRECISION_TARGET)} 份"
    target = _rule_target(indicator.rule)
    if target is not None:
        need += (f"，按指标值 {fmt_number(Decimal(str(target)) * 100)}% 估算需约 "
                 f"{sample_size_needed(target, PRECISION_TARGET)} 份")
    return [_finding(
        indicator, "linked_sample_too_small",
        f"关联问卷样本仅 {n} 份：{percent(rate)} 的 95% 置信区间为 {percent(low, 1)}–{percent(high, 1)}，"
        f"误差超过 ±{fmt_number(Decimal(str(PRECISION_TARGET)) * 100)} 个百分点，无法区分 {percent(low, 1)} 与 "
        f"{percent(high, 1)}；达到 ±5% 精度（95% 置信水平）{need}",
    )]
