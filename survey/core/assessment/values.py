"""The base of the scoring rules and the values they read and show, in Chinese.

Rates are fractions (0.95); a percent string ("95%", "（100%）") is read as its fraction, and a
rate linked from a survey arrives as its exact fraction (fractions.Fraction, e.g. 113/139).
Rules compute on exact fractions; every score is a Decimal rounded once to two places, half up
(exact.round_half_up).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import ClassVar

from ..errors import DomainError
from ..exact import round_half_up
from ..labels import number

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
TWO_PLACES = Decimal("0.01")
# Beyond these, Decimal arithmetic could overflow or lose the two places; no real figure is there.
_LARGEST = Decimal("1e12")
_SMALLEST = Decimal("1e-12")

# Reports wrap figures in ASCII or full-width parentheses, e.g. the seed's "（100%）".
_OPENING = "(（"
_CLOSING = ")）"


class RuleError(DomainError):
    """A scoring rule, one of its parameters, or the value it scores cannot be used."""


@dataclass(frozen=True)
class Score:
    """A computed score (two places, ROUND_HALF_UP) and the arithmetic behind it, in Chinese."""

    score: Decimal
    explanation: str


RULE_TYPES: dict[str, str] = {
    "proportional": "定量指标(比例计分)",
    "rate_times_weight": "完成率×分值",
    "deduction_per_point": "按点扣分",
    "bands": "分档计分",
    "qualitative": "定性指标(三档)",
}


class Rule(ABC):
    """A scoring rule; each subclass is a frozen dataclass named in RULE_TYPES."""

    type: ClassVar[str]

    @abstractmethod
    def to_json(self) -> dict: ...

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def score(self, weight, actual) -> Score: ...


def quantize(value: Decimal | Fraction) -> Decimal:
    return round_half_up(value, 2)


def make_score(value: Decimal, explanation: str) -> Score:
    return Score(quantize(value), explanation)


def full_marks(weight: Decimal, reason: str) -> Score:
    return make_score(weight, f"{reason}，得满分 {fmt_number(weight)}")


def to_decimal(value, what: str) -> Decimal:
    """A finite Decimal from a JSON, CLI or form value; `what` names the value in the error."""
    if isinstance(value, bool):
        raise RuleError(f"{what}必须是数值，而不是 {value}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, (int, float)):
        number = Decimal(str(value))  # via str, so 0.9 stays 0.9 and not 0.90000000000000002
    elif isinstance(value, str):
        number = _decimal_or_none(value.strip())
        if number is None:
            raise RuleError(f"{what}必须是数值，而不是“{value}”")
    else:
        raise RuleError(f"{what}必须是数值")
    if not number.is_finite():
        raise RuleError(f"{what}必须是有限的数值，而不是 {value}")
    if number and not _SMALLEST <= abs(number) <= _LARGEST:
        raise RuleError(f"{what}超出可计算的范围：{value}")
    return number


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _unwrap(text: str) -> str:
    text = text.strip()
    while len(text) >= 2 and text[0] in _OPENING and text[-1] in _CLOSING:
        text = text[1:-1].strip()
    return text


def parse_actual(value) -> Decimal | Fraction | str:
    """An actual as a rate (Decimal fraction, or the exact Fraction of a linked survey figure)
    or, for qualitative indicators, the word itself."""
    if value is None:
        raise RuleError("缺少实际完成值")
    if isinstance(value, Fraction):
        return value
    if not isinstance(value, str):
        return to_decimal(value, "实际完成值")
    text = _unwrap(value.replace("％", "%"))
    if not text:
        raise RuleError("实际完成值为空")
    if text.endswith("%"):
        return to_decimal(text[:-1], "实际完成值") / HUNDRED
    number = _decimal_or_none(text)
    if number is None:
        return text
    return to_decimal(number, "实际完成值")


def parse_weight(value) -> Decimal:
    """A weight (分值): a finite number, zero or more."""
    weight = to_decimal(value, "分值")
    if weight < ZERO:
        raise RuleError(f"分值不能为负数：{fmt_number(weight)}")
    return weight


def numeric_actual(actual, rule_name: str) -> Decimal | Fraction:
    value = actual if isinstance(actual, (Decimal, Fraction)) else parse_actual(actual)
    if isinstance(value, str):
        raise RuleError(f"实际完成值“{value}”不是数值，不能按“{rule_name}”计分")
    return value if isinstance(value, Fraction) else to_decimal(value, "实际完成值")


def fmt_number(value: Decimal | Fraction) -> str:
    """A number as written by a person: 15, 14.4, 0.86 (no exponent, no trailing zeros).

    A fraction with no finite decimal form is shown to two places."""
    if isinstance(value, Fraction):
        value = _finite_decimal(value)
    return number(value)


def _finite_decimal(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact if Fraction(exact) == value else quantize(value)


def fmt_score(value: Decimal | Fraction) -> str:
    return str(quantize(value))


def check_keys(data: dict, rule_name: str, required: set[str], optional: set[str]) -> None:
    missing = sorted(required - data.keys())
    if missing:
        raise RuleError(f"评分规则“{rule_name}”缺少参数：{'、'.join(missing)}")
    unknown = sorted(data.keys() - required - optional - {"type"})
    if unknown:
        raise RuleError(f"评分规则“{rule_name}”不认识参数：{'、'.join(map(str, unknown))}")


def param_number(data: dict, key: str, rule_name: str, default=None) -> Decimal:
    value = data.get(key, default)
    return to_decimal(value, f"评分规则“{rule_name}”的参数 {key} ")


def param_choice(data: dict, key: str, options: dict[str, str], rule_name: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or value not in options:
        choices = "、".join(f"{name}（{label}）" for name, label in options.items())
        raise RuleError(f"评分规则“{rule_name}”的参数 {key} 只能取 {choices}，而不是 {value!r}")
    return value


def json_number(value: Decimal) -> int | float:
    """A Decimal for JSON: an int when whole, else a float (parameters are short decimals)."""
    return int(value) if value == value.to_integral_value() else float(value)
