"""Indicator tables (CSV) read into an assessment tree, one row per third-level indicator.

Two forms are read, told apart by their header:

* the seed form (data/seed-indicators-2022.csv): level1, level1_weight, level1_score_reported,
  level2, indicator, kind_interpretation, target, actual_table_3_2, actual_annex_1, weight,
  score_table_3_2, score_annex_1, score_in_text. 表3-2 gives the primary figures; 附件1 and the
  text (正文) are kept as reported versions, so that each disagreement becomes a finding.
* the simple form: level1, level2, indicator, weight and optionally target, actual, score,
  rule (a rule's JSON), description. Without a rule, one is inferred from the target:
  "≤x%" → proportional "<="; "≥x%" or "x%" → proportional ">="; a word → qualitative, with the
  entered score's share of the weight as the fraction (when it lies in a tier).

Level-1 weights come from level1_weight when given, else from the sum of their indicators.
"""
from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

from ..errors import DomainError
from .rules import rule_from_json, tier_for_fraction
from .tree import Indicator, evaluate
from .values import ZERO, RuleError, json_number, to_decimal

SEED_COLUMNS = (
    "level1", "level1_weight", "level1_score_reported", "level2", "indicator",
    "kind_interpretation", "target", "actual_table_3_2", "actual_annex_1", "weight",
    "score_table_3_2", "score_annex_1", "score_in_text",
)
SIMPLE_COLUMNS = ("level1", "level2", "indicator", "weight")

ANNEX, TEXT = "附件1", "正文"

# The seed's own notes under 附件1. "每浮动1%" counts whole points, so a fraction of a point
# costs nothing (the seed's 0.1% adjustment keeps full marks). 预算调整率 follows its note
# ("未调整的计2分"): any adjustment, up or down, counts. 结转结余率's note repeats "未调整" by
# copy and paste; its target ≤20% is taken as the allowance instead. "三公经费" 控制率: ≤100%
# is within budget, each point over costs 2%.
SEED_DEDUCTIONS = {
    "预算调整率": {"allowance": 0, "per_point": 0.05, "direction": "abs", "fraction": "whole_points"},
    "结转结余率": {"allowance": 0.2, "per_point": 0.05, "direction": "<=", "fraction": "whole_points"},
    "“三公经费”控制率": {"allowance": 1, "per_point": 0.02, "direction": "<=", "fraction": "whole_points"},
}
DEFAULT_SATISFACTION_TARGET = Decimal("0.9")
_TARGET = re.compile(r"^\s*(≥|≤|>=|<=)?\s*(\d+(?:\.\d+)?)\s*[%％]")
_ANNEX_TARGET = re.compile(r"^(.*?)\s*\(annex 1:\s*(.*?)\)\s*$")
_SURVEY_BACKED = re.compile(r"survey-backed:\s*(\d+)\s+of\s+(\d+)")


class IndicatorTableError(DomainError):
    """An indicator table that cannot be read; the message names the row."""


def parse_target(target: str) -> tuple[str, Decimal] | None:
    """("<=", 0.1) for "≤10%"; (">=", 1) for "100%"; None for a word such as 合理."""
    match = _TARGET.match(target or "")
    if not match:
        return None
    direction = "<=" if match.group(1) in ("≤", "<=") else ">="
    return direction, Decimal(match.group(2)) / 100


def default_rule(kind: str, name: str, target: str, weight: Decimal, score: Decimal | None) -> dict | None:
    """The rule an indicator of this kind follows by default; None when it cannot be inferred."""
    parsed = parse_target(target)
    if kind == "rate_times_weight":
        return {"type": "rate_times_weight"}
    if kind == "qualitative":
        return _qualitative_rule(weight, score)
    if kind == "deduction_per_point":
        return _deduction_rule(name, parsed)
    if kind == "survey_satisfaction":
        value = parsed[1] if parsed else DEFAULT_SATISFACTION_TARGET
        return {"type": "proportional", "target": json_number(value), "direction": ">="}
    if kind in ("quantitative_min", "quantitative_max") and parsed and parsed[1] > ZERO:
        return {"type": "proportional", "target": json_number(parsed[1]), "direction": parsed[0]}
    return None


def _qualitative_rule(weight: Decimal, score: Decimal | None) -> dict | None:
    if score is None or weight <= ZERO:
        return None
    fraction = score / weight
    tier = tier_for_fraction(fraction)
    # Read back from the entered score, so it can never disagree with it: marked, and named
    # by a finding (assessment_checks.unexplained_rule).
    return None if tier is None else {"type": "qualitative", "tier": tier,
                                      "fraction": json_number(fraction), "from_score": True}


def _deduction_rule(name: str, parsed: tuple[str, Decimal] | None) -> dict | None:
    if name in SEED_DEDUCTIONS:
        return {"type": "deduction_per_point", **SEED_DEDUCTIONS[name]}
    if parsed is None:
        return None
    return {"type": "deduction_per_point", "allowance": json_number(parsed[1]),
            "per_point": 0.05, "direction": parsed[0], "fraction": "pro_rata"}


def infer_kind(target: str) -> str:
    parsed = parse_target(target)
    if parsed is None:
        return "qualitative"
    return "quantitative_max" if parsed[0] == "<=" else "quantitative_min"


def _number(row: dict, column: str, line: int, optional: bool = False) -> Decimal | None:
    text = (row.get(column) or "").strip()
    if not text and optional:
        return None
    try:
        return to_decimal(text, f"列 {column} ")
    except RuleError as error:
        raise IndicatorTableError(f"第 {line} 行：{error}") from None


def _text(row: dict, column: str) -> str:
    return (row.get(column) or "").strip()


def _versions(pairs: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    cleaned = {field: {src: val for src, val in by_source.items() if val} for field, by_source in pairs.items()}
    return {field: by_source for field, by_source in cleaned.items() if by_source}


def _seed_leaf(row: dict, line: int) -> Indicator:
    name, weight = _text(row, "indicator"), _number(row, "weight", line)
    kind, _, note = _text(row, "kind_interpretation").partition(" (")
    note = note.rstrip(")")
    target, annex_target = _text(row, "target"), ""
    if match := _ANNEX_TARGET.match(target):
        target, annex_target = match.group(1), match.group(2)
    text_actual = re.findall(r"\d+(?:\.\d+)?%", note.partition("text:")[2])
    score = _number(row, "score_table_3_2", line, optional=True)
    leaf = Indicator(
        key="", name=name, level=3, weight=weight, target=target,
        actual=_text(row, "actual_table_3_2") or None,
        rule=default_rule(kind, name, target, weight, score), score=score, notes=note,
        reported_versions=_versions({
            "target": {ANNEX: annex_target},
            "actual": {ANNEX: _text(row, "actual_annex_1"), TEXT: text_actual[-1] if text_actual else ""},
            "score": {ANNEX: _text(row, "score_annex_1"), TEXT: _text(row, "score_in_text")},
        }),
    )
    if match := _SURVEY_BACKED.search(note):
        satisfied, n = int(match.group(1)), int(match.group(2))
        leaf.linked_figure = {"figure": "satisfaction_rate", "satisfied": satisfied, "n": n,
                              "value": float(Decimal(satisfied) / n) if n else None,
                              "exact": [satisfied, n] if n else None}
    return leaf


def _rule_cell(row: dict, line: int) -> dict | None:
    text = _text(row, "rule")
    if not text:
        return None
    try:
        rule = json.loads(text)
        rule_from_json(rule)
    except json.JSONDecodeError:
        raise IndicatorTableError(f"第 {line} 行：评分规则不是合法的 JSON：{text}") from None
    except RuleError as error:
        raise IndicatorTableError(f"第 {line} 行：{error}") from None
    return rule


def _simple_leaf(row: dict, line: int) -> Indicator:
    name, weight = _text(row, "indicator"), _number(row, "weight", line)
    target, score = _text(row, "target"), _number(row, "score", line, optional=True)
    rule = _rule_cell(row, line) or default_rule(infer_kind(target), name, target, weight, score)
    return Indicator(
        key="", name=name, level=3, weight=weight, target=target,
        description=_text(row, "description"), actual=_text(row, "actual") or None,
        rule=rule, score=score,
    )


def _level1(row: dict, line: int, seed: bool) -> tuple[Decimal | None, Decimal | None]:
    if not seed:
        return None, None
    return (_number(row, "level1_weight", line, optional=True),
            _number(row, "level1_score_reported", line, optional=True))


def _check_level1(root: Indicator, weight: Decimal | None, reported: Decimal | None, line: int):
    if (weight, reported) != (root.weight, root.reported_total):
        raise IndicatorTableError(f"第 {line} 行：一级指标“{root.name}”的分值或报告得分与前面的行不一致")


def _build(rows: list[dict], seed: bool) -> list[Indicator]:
    roots: dict[str, Indicator] = {}
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        name1, name2 = _text(row, "level1"), _text(row, "level2")
        if not (name1 and name2 and _text(row, "indicator")):
            raise IndicatorTableError(f"第 {line} 行：一级指标、二级指标和三级指标都不能为空")
        weight1, reported1 = _level1(row, line, seed)
        if name1 not in roots:
            roots[name1] = Indicator(key="", name=name1, level=1, weight=weight1, reported_total=reported1)
        root = roots[name1]
        _check_level1(root, weight1, reported1, line)
        parent = next((child for child in root.children if child.name == name2), None)
        if parent is None:
            parent = Indicator(key="", name=name2, level=2, weight=ZERO)
            root.children.append(parent)
        parent.children.append(_seed_leaf(row, line) if seed else _simple_leaf(row, line))
    return list(roots.values())


def _number_and_sum(roots: list[Indicator]) -> None:
    """Keys "1", "1.2", "1.2.3" by position; weights not given are their children's sum."""
    for i, root in enumerate(roots, start=1):
        root.key = str(i)
        for j, parent in enumerate(root.children, start=1):
            parent.key = f"{i}.{j}"
            parent.weight = sum((leaf.weight for leaf in parent.children), ZERO)
            for k, leaf in enumerate(parent.children, start=1):
                leaf.key = f"{i}.{j}.{k}"
        if root.weight is None:
            root.weight = sum((parent.weight for parent in root.children), ZERO)


def read_indicator_table(text: str) -> list[Indicator]:
    """The level-1 indicators of a CSV indicator table (seed or simple form)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = set(reader.fieldnames or ())
    seed = set(SEED_COLUMNS) <= header
    if not seed and not set(SIMPLE_COLUMNS) <= header:
        missing = "、".join(column for column in SIMPLE_COLUMNS if column not in header)
        raise IndicatorTableError(f"无法识别的指标表：缺少列 {missing}")
    rows = list(reader)
    if not rows:
        raise IndicatorTableError("指标表没有任何指标行")
    roots = _build(rows, seed)
    _number_and_sum(roots)
    return roots


def assess_table(text: str) -> dict:
    """What `survey assess FILE.csv --json` prints: levels, total, grade and findings."""
    result = evaluate(read_indicator_table(text)).to_dict()
    return {key: result[key] for key in ("levels", "total", "grade", "findings")}
