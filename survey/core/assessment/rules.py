"""Scoring rules (评分规则): how an indicator's actual becomes a score out of its weight.

Each rule is a frozen dataclass with `to_json()`, `describe()` (plain Chinese) and
`score(weight, actual) -> Score`. `rule_from_json(d)` reads the public JSON form, e.g.
{"type": "proportional", "target": 0.9, "direction": ">="}. Bad parameters and unusable
actuals raise RuleError with a Chinese message. Banded and per-point deduction rules live in
rule_bands.py, values and display helpers in rule_values.py; all are importable from here.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar

from ..exact import as_fraction
from ..labels import percent
from .bands import Band, BandsRule, DeductionPerPointRule, bands_from_json
from .values import (
    ONE,
    RULE_TYPES,
    ZERO,
    Rule,
    RuleError,
    Score,
    check_keys,
    fmt_number,
    fmt_score,
    full_marks,
    json_number,
    make_score,
    numeric_actual,
    param_choice,
    param_number,
    parse_actual,
    parse_weight,
)

__all__ = [
    "RULE_TYPES",
    "TIERS",
    "Band",
    "BandsRule",
    "DeductionPerPointRule",
    "ProportionalRule",
    "QualitativeRule",
    "RateTimesWeightRule",
    "Rule",
    "RuleError",
    "Score",
    "parse_actual",
    "parse_weight",
    "rule_from_json",
    "tier_for_fraction",
]


@dataclass(frozen=True)
class ProportionalRule(Rule):
    """定量指标: target met → full marks; otherwise in proportion (two forms for "≤")."""

    target: Decimal
    direction: str = ">="
    over_form: str = "ratio"
    type: ClassVar[str] = "proportional"

    DIRECTIONS: ClassVar[dict[str, str]] = {">=": "不低于指标值", "<=": "不高于指标值"}
    OVER_FORMS: ClassVar[dict[str, str]] = {"ratio": "指标值/实际值", "linear": "线性递减"}

    def __post_init__(self):
        if self.direction not in self.DIRECTIONS or self.over_form not in self.OVER_FORMS:
            raise RuleError(f"定量指标的方向或超出计分方式无效：{self.direction!r}、{self.over_form!r}")
        if self.direction == ">=" and self.over_form != "ratio":
            raise RuleError("定量指标只有方向为 <= 时才能选择超出后的计分方式")
        if self.target <= ZERO:
            raise RuleError(f"定量指标的指标值必须大于 0，而不是 {percent(self.target, None, trim=True)}")

    def to_json(self) -> dict:
        data = {"type": self.type, "target": json_number(self.target), "direction": self.direction}
        if self.direction == "<=":
            data["over_form"] = self.over_form
        return data

    def describe(self) -> str:
        target = percent(self.target, None, trim=True)
        if self.direction == ">=":
            return f"完成指标值（≥{target}）得满分；未完成按 实际值/指标值 × 分值 计分"
        if self.over_form == "ratio":
            return f"不超过指标值（≤{target}）得满分；超过按 指标值/实际值 × 分值 计分"
        twice = percent(2 * self.target, None, trim=True)
        return f"不超过指标值（≤{target}）得满分；超过后线性递减，达到指标值的 2 倍（{twice}）时得 0 分"

    def score(self, weight, actual) -> Score:
        weight = parse_weight(weight)
        rate = numeric_actual(actual, RULE_TYPES[self.type])
        target, shown = self.target, (percent(rate), percent(self.target))
        # Exact arithmetic on fractions; the score is rounded once, in make_score.
        exact_weight, exact_rate, exact_target = map(as_fraction, (weight, rate, target))
        if self.direction == ">=":
            if rate >= target:
                return full_marks(weight, f"实际值 {shown[0]} ≥ 指标值 {shown[1]}")
            value = max(ZERO, exact_weight * exact_rate / exact_target)
            return make_score(value, f"{fmt_number(weight)} × {shown[0]} / {shown[1]} = {fmt_score(value)}")
        if rate <= target:
            return full_marks(weight, f"实际值 {shown[0]} ≤ 指标值 {shown[1]}")
        if self.over_form == "ratio":
            value = exact_weight * exact_target / exact_rate
            return make_score(value, f"{fmt_number(weight)} × {shown[1]} / {shown[0]} = {fmt_score(value)}")
        value = max(ZERO, exact_weight * (2 * exact_target - exact_rate) / exact_target)
        floor = "（不低于 0）" if value == ZERO else ""
        formula = f"{fmt_number(weight)} × (2 × {shown[1]} − {shown[0]}) / {shown[1]}"
        return make_score(value, f"{formula} = {fmt_score(value)}{floor}")


@dataclass(frozen=True)
class RateTimesWeightRule(Rule):
    """得分 = 分值 × 完成率, the rate held within 0%–100%."""

    type: ClassVar[str] = "rate_times_weight"

    def to_json(self) -> dict:
        return {"type": self.type}

    def describe(self) -> str:
        return "得分 = 分值 × 完成率（完成率超过 100% 按 100% 计，低于 0 按 0 计）"

    def score(self, weight, actual) -> Score:
        weight = parse_weight(weight)
        rate = numeric_actual(actual, RULE_TYPES[self.type])
        held = min(max(rate, ZERO), ONE)
        note = "" if held == rate else f"完成率 {percent(rate)} 按 {percent(held, None, trim=True)} 计；"
        value = as_fraction(weight) * as_fraction(held)
        return make_score(value, f"{note}{fmt_number(weight)} × {percent(held)} = {fmt_score(value)}")


TIERS: dict[str, tuple[str, Decimal, Decimal]] = {
    # name: (label, lowest fraction inclusive, highest fraction; inclusive only for "achieved")
    "achieved": ("达成预期", Decimal("0.8"), ONE),
    "partial": ("部分达成并具有一定效果", Decimal("0.6"), Decimal("0.8")),
    "not_achieved": ("未达成且效果较差", ZERO, Decimal("0.6")),
}


def _tier_range(tier: str) -> str:
    _, low, high = TIERS[tier]
    closing = "（含）" if tier == "achieved" else "（不含）"
    return f"{percent(low, None, trim=True)}（含）至 {percent(high, None, trim=True)}{closing}"


def tier_for_fraction(fraction: Decimal) -> str | None:
    """The tier whose range holds `fraction` (80% is achieved, 60% partial), or None."""
    for tier, (_, low, high) in TIERS.items():
        if low <= fraction < high or (tier == "achieved" and fraction == high):
            return tier
    return None


@dataclass(frozen=True)
class QualitativeRule(Rule):
    """定性指标: a judged tier and the fraction of the weight given within that tier's range."""

    tier: str
    fraction: Decimal
    from_score: bool = False  # the fraction was read back from an entered score, not stated
    type: ClassVar[str] = "qualitative"

    def __post_init__(self):
        if self.tier not in TIERS:
            raise RuleError(f"定性指标的档次只能是 {'、'.join(TIERS)}，而不是 {self.tier!r}")
        if tier_for_fraction(self.fraction) != self.tier:
            label = TIERS[self.tier][0]
            raise RuleError(
                f"“{label}”档的得分比例应在 {_tier_range(self.tier)}之间，"
                f"而不是 {percent(self.fraction, None, trim=True)}"
            )

    def to_json(self) -> dict:
        data = {"type": self.type, "tier": self.tier, "fraction": json_number(self.fraction)}
        if self.from_score:
            data["from_score"] = True
        return data

    def describe(self) -> str:
        label = TIERS[self.tier][0]
        text = (
            "定性指标分三档：达成预期得分值的 80%（含）–100%，部分达成并具有一定效果 60%（含）–80%，"
            f"未达成且效果较差 0–60%；本项评定为“{label}”，按分值的 "
            f"{percent(self.fraction, None, trim=True)} 计分"
        )
        if self.from_score:
            text += "（该比例由填报得分反推，并非写明的评分依据）"
        return text

    def score(self, weight, actual) -> Score:
        weight = parse_weight(weight)
        shown = percent(actual) if isinstance(actual, (Decimal, Fraction)) else (actual or "未填写")
        value = weight * self.fraction
        label = TIERS[self.tier][0]
        return make_score(
            value,
            f"实际完成情况“{shown}”，评定为“{label}”：{fmt_number(weight)} × "
            f"{percent(self.fraction, None, trim=True)} = {fmt_score(value)}",
        )


def _proportional_from_json(data: dict) -> Rule:
    name = RULE_TYPES["proportional"]
    check_keys(data, name, {"target"}, {"direction", "over_form"})
    direction = param_choice(data, "direction", ProportionalRule.DIRECTIONS, name, ">=")
    over_form = param_choice(data, "over_form", ProportionalRule.OVER_FORMS, name, "ratio")
    if direction == ">=" and "over_form" in data:
        raise RuleError(f"评分规则“{name}”只有方向为 <= 时才有参数 over_form")
    return ProportionalRule(param_number(data, "target", name), direction, over_form)


def _rate_times_weight_from_json(data: dict) -> Rule:
    check_keys(data, RULE_TYPES["rate_times_weight"], set(), set())
    return RateTimesWeightRule()


def _deduction_from_json(data: dict) -> Rule:
    name = RULE_TYPES["deduction_per_point"]
    check_keys(data, name, {"allowance", "per_point"}, {"direction", "fraction"})
    return DeductionPerPointRule(
        allowance=param_number(data, "allowance", name),
        per_point=param_number(data, "per_point", name),
        direction=param_choice(data, "direction", DeductionPerPointRule.DIRECTIONS, name, "<="),
        fraction=param_choice(data, "fraction", DeductionPerPointRule.FRACTIONS, name, "pro_rata"),
    )


def _qualitative_from_json(data: dict) -> Rule:
    name = RULE_TYPES["qualitative"]
    check_keys(data, name, {"tier", "fraction"}, {"from_score"})
    labels = {tier: label for tier, (label, _, _) in TIERS.items()}
    tier = param_choice(data, "tier", labels, name, "")
    from_score = data.get("from_score", False)
    if not isinstance(from_score, bool):
        raise RuleError(f"评分规则“{name}”的参数 from_score 只能是 true 或 false")
    return QualitativeRule(tier, param_number(data, "fraction", name), from_score)


_READERS = {
    "proportional": _proportional_from_json,
    "rate_times_weight": _rate_times_weight_from_json,
    "deduction_per_point": _deduction_from_json,
    "bands": bands_from_json,
    "qualitative": _qualitative_from_json,
}


def rule_from_json(data: dict) -> Rule:
    """The rule a JSON object describes; RuleError (Chinese) for anything malformed."""
    if not isinstance(data, dict):
        raise RuleError("评分规则必须是一个 JSON 对象，例如 {\"type\": \"rate_times_weight\"}")
    if "type" not in data:
        raise RuleError("评分规则缺少 type")
    reader = _READERS.get(data["type"]) if isinstance(data["type"], str) else None
    if reader is None:
        known = "、".join(f"{key}（{label}）" for key, label in RULE_TYPES.items())
        raise RuleError(f"未知的评分规则类型：{data['type']!r}；可用的类型有 {known}")
    return reader(data)
