"""Two scoring rules that step: per-point deductions (按点扣分) and score bands (分档计分).

Import them from survey.core.rules; this module only keeps rules.py short.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import ClassVar

from ..exact import as_fraction
from ..labels import percent
from .values import (
    HUNDRED,
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
    parse_weight,
    to_decimal,
)


@dataclass(frozen=True)
class DeductionPerPointRule(Rule):
    """Full marks within the allowance; per_point × weight off for each percentage point beyond.

    "abs" measures |actual| against the allowance: an adjustment rate of −3% (追减) counts as
    3 points of adjustment, the same as +3% (追加).
    """

    allowance: Decimal
    per_point: Decimal
    direction: str = "<="
    fraction: str = "pro_rata"
    type: ClassVar[str] = "deduction_per_point"

    DIRECTIONS: ClassVar[dict[str, str]] = {
        "<=": "超出允许值扣分", ">=": "低于允许值扣分", "abs": "绝对值超出允许值扣分",
    }
    FRACTIONS: ClassVar[dict[str, str]] = {
        "pro_rata": "不足1个百分点按比例扣分",
        "whole_points": "不足1个百分点不扣分",
        "started_point": "不满1%按1%计算",
    }
    _ROUNDING: ClassVar[dict[str, str | None]] = {
        "pro_rata": None, "whole_points": ROUND_FLOOR, "started_point": ROUND_CEILING,
    }

    def __post_init__(self):
        if self.direction not in self.DIRECTIONS or self.fraction not in self.FRACTIONS:
            raise RuleError(f"按点扣分的方向或计点方式无效：{self.direction!r}、{self.fraction!r}")
        if not ZERO < self.per_point <= ONE:
            raise RuleError(
                f"按点扣分的每点扣分比例应大于 0% 且不超过 100%，而不是 {percent(self.per_point, None, trim=True)}"
            )
        if self.direction == "abs" and self.allowance < ZERO:
            raise RuleError("按绝对值扣分时，允许值不能为负数")

    def to_json(self) -> dict:
        return {
            "type": self.type, "allowance": json_number(self.allowance), "direction": self.direction,
            "per_point": json_number(self.per_point), "fraction": self.fraction,
        }

    def _range(self) -> str:
        allowance = percent(self.allowance, None, trim=True)
        return {"<=": f"≤{allowance}", ">=": f"≥{allowance}", "abs": f"绝对值 ≤{allowance}"}[self.direction]

    def describe(self) -> str:
        allowance, per_point = percent(self.allowance, None, trim=True), percent(self.per_point, None, trim=True)
        within = {
            "<=": f"实际值不超过 {allowance} 得满分；每超出 1 个百分点",
            ">=": f"实际值不低于 {allowance} 得满分；每低于 1 个百分点",
            "abs": f"实际值的绝对值（上调或下调的幅度）不超过 {allowance} 得满分；绝对值每超出 1 个百分点",
        }[self.direction]
        return f"{within}扣分值的 {per_point}（{self.FRACTIONS[self.fraction]}），扣完为止"

    def points_beyond(self, rate: Decimal | Fraction) -> Decimal | Fraction:
        """Percentage points outside the allowance (0 when within it); exact for a fraction."""
        if isinstance(rate, Fraction):
            allowance = as_fraction(self.allowance)
            gap = {"<=": rate - allowance, ">=": allowance - rate,
                   "abs": abs(rate) - allowance}[self.direction]
            return max(Fraction(0), gap * 100)
        gap = {
            "<=": rate - self.allowance, ">=": self.allowance - rate, "abs": abs(rate) - self.allowance,
        }[self.direction]
        return max(ZERO, gap * HUNDRED)

    def counted_points(self, beyond: Decimal | Fraction) -> Decimal | Fraction:
        rounding = self._ROUNDING[self.fraction]
        if rounding is None:
            return beyond
        if isinstance(beyond, Fraction):
            return Decimal(math.floor(beyond) if rounding == ROUND_FLOOR else math.ceil(beyond))
        return beyond.to_integral_value(rounding=rounding)

    def score(self, weight, actual) -> Score:
        weight = parse_weight(weight)
        rate = numeric_actual(actual, RULE_TYPES[self.type])
        beyond = self.points_beyond(rate)
        if beyond == ZERO:
            return full_marks(weight, f"实际值 {percent(rate)} 在允许范围（{self._range()}）内")
        counted = self.counted_points(beyond)
        exact_weight = as_fraction(weight)
        value = max(ZERO, exact_weight - as_fraction(counted) * as_fraction(self.per_point) * exact_weight)
        formula = (
            f"{fmt_number(weight)} − {fmt_number(counted)} × {percent(self.per_point, None, trim=True)} × "
            f"{fmt_number(weight)} = {fmt_score(value)}"
        )
        return make_score(
            value,
            f"实际值 {percent(rate)} 超出允许范围（{self._range()}）{fmt_score(beyond)} 个百分点，"
            f"计 {fmt_number(counted)} 个百分点：{formula}{'（扣完为止）' if value == ZERO else ''}",
        )


@dataclass(frozen=True)
class Band:
    """One band: actual at or beyond `bound` earns `points`, or `fraction` of the weight."""

    bound: Decimal
    points: Decimal | None = None
    fraction: Decimal | None = None

    def value(self, weight: Decimal) -> Decimal:
        return self.points if self.points is not None else weight * self.fraction

    def to_json(self, key: str) -> dict:
        if self.points is not None:
            return {key: json_number(self.bound), "score": json_number(self.points)}
        return {key: json_number(self.bound), "fraction": json_number(self.fraction)}


@dataclass(frozen=True)
class BandsRule(Rule):
    """分档计分: bands from strictest to loosest; the first band the actual reaches gives the score.

    key "at_least" for rising indicators (actual ≥ bound), "at_most" for falling ones.
    Bounds are inclusive; a looser band never gives more than a stricter one.
    """

    bands: tuple[Band, ...]
    key: str = "at_least"
    type: ClassVar[str] = "bands"

    KEYS: ClassVar[dict[str, str]] = {"at_least": "≥", "at_most": "≤"}

    def __post_init__(self):
        if self.key not in self.KEYS:
            raise RuleError(f"分档的界限只能用 at_least 或 at_most，而不是 {self.key!r}")
        if not self.bands:
            raise RuleError("分档计分至少要有一个档次")
        for stricter, looser in zip(self.bands, self.bands[1:], strict=False):
            self._check_order(stricter, looser)
        for band in self.bands:
            _check_band_value(band)

    def _check_order(self, stricter: Band, looser: Band) -> None:
        if stricter.bound == looser.bound:
            raise RuleError(f"分档界限 {percent(looser.bound, None, trim=True)} 重复")
        if (looser.bound > stricter.bound) == (self.key == "at_least"):
            order = "由高到低" if self.key == "at_least" else "由低到高"
            raise RuleError(f"分档须从最严到最宽排列（{self.KEYS[self.key]} 的界限{order}）")
        same_kind = (stricter.points is None) == (looser.points is None)
        if same_kind and looser.value(ONE) > stricter.value(ONE):
            raise RuleError("较宽的档次得分不能高于较严的档次")

    def to_json(self) -> dict:
        return {"type": self.type, "bands": [band.to_json(self.key) for band in self.bands]}

    def _band_text(self, band: Band) -> str:
        bound = f"{self.KEYS[self.key]}{percent(band.bound, None, trim=True)}"
        if band.points is not None:
            return f"{bound} 得 {fmt_number(band.points)} 分"
        return f"{bound} 得分值的 {percent(band.fraction, None, trim=True)}"

    def describe(self) -> str:
        return "分档计分：" + "；".join(map(self._band_text, self.bands)) + "；未达到任何档次得 0 分"

    def _check_values(self, weight: Decimal) -> None:
        values = [band.value(weight) for band in self.bands]
        if values[0] > weight:
            raise RuleError(f"档次得分 {fmt_number(values[0])} 超过分值 {fmt_number(weight)}")
        if any(looser > stricter for stricter, looser in itertools.pairwise(values)):
            raise RuleError("较宽的档次得分不能高于较严的档次")

    def _reaches(self, rate: Decimal, band: Band) -> bool:
        return rate >= band.bound if self.key == "at_least" else rate <= band.bound

    def score(self, weight, actual) -> Score:
        weight = parse_weight(weight)
        rate = numeric_actual(actual, RULE_TYPES[self.type])
        self._check_values(weight)
        band = next((band for band in self.bands if self._reaches(rate, band)), None)
        if band is None:
            return make_score(ZERO, f"实际值 {percent(rate)} 未达到任何档次，得 0.00 分")
        reached = f"实际值 {percent(rate)} {self.KEYS[self.key]} {percent(band.bound)}"
        if band.points is not None:
            return make_score(band.points, f"{reached}，对应档次得 {fmt_score(band.points)} 分")
        value = band.value(weight)
        return make_score(
            value,
            f"{reached}，对应档次得分值的 {percent(band.fraction, None, trim=True)}："
            f"{fmt_number(weight)} × {percent(band.fraction, None, trim=True)} = {fmt_score(value)}",
        )


def _check_band_value(band: Band) -> None:
    if (band.points is None) == (band.fraction is None):
        raise RuleError("每个档次须给出 score（得分）或 fraction（分值比例）中的一项")
    if band.points is not None and band.points < ZERO:
        raise RuleError(f"档次得分不能为负数：{fmt_number(band.points)}")
    if band.fraction is not None and not ZERO <= band.fraction <= ONE:
        raise RuleError(f"档次的分值比例应在 0% 至 100% 之间，而不是 {percent(band.fraction, None, trim=True)}")


def _band_from_json(data: dict, key: str) -> Band:
    name = RULE_TYPES["bands"]
    check_keys(data, name, {key}, {"score", "fraction"})
    if "type" in data:
        raise RuleError("档次里不能有参数 type")
    points, fraction = (
        to_decimal(data[field], f"档次的 {field} ") if field in data else None
        for field in ("score", "fraction")
    )
    return Band(to_decimal(data[key], f"档次的 {key} "), points, fraction)


def _band_key(bands: list) -> str:
    keys = {key for band in bands for key in ("at_least", "at_most") if key in band}
    if len(keys) != 1:
        raise RuleError("同一规则的各档次须都用 at_least（不低于）或都用 at_most（不高于）")
    return keys.pop()


def bands_from_json(data: dict) -> BandsRule:
    check_keys(data, RULE_TYPES["bands"], {"bands"}, set())
    bands = data["bands"]
    if not isinstance(bands, list) or not bands:
        raise RuleError("分档计分的 bands 必须是非空的列表")
    if not all(isinstance(band, dict) for band in bands):
        raise RuleError("每个档次必须是 JSON 对象，例如 {\"at_least\": 0.95, \"score\": 14}")
    key = _band_key(bands)
    return BandsRule(tuple(_band_from_json(band, key) for band in bands), key)
