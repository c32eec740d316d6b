"""预算执行情况: the budget block of the self-evaluation (年初数, 全年数, 全年执行数 by source).

The execution rate (全年执行数 / 全年数) and the adjustment rate ((全年数 − 年初数) / 年初数) are
kept to four places (a percent with two decimals), so the rate printed in the report
reproduces the score computed from it. Amounts are in 万元, Decimal throughout.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..errors import DomainError
from .checks import Finding
from .values import RuleError, to_decimal

ZERO = Decimal(0)
RATE_PLACES = Decimal("0.0001")
MONEY_PLACES = Decimal("0.01")
AMOUNT_FIELDS = {"initial": "年初数", "full_year": "全年数", "executed": "全年执行数"}
BUDGET_KEY = "budget"
BUDGET_NAME = "预算执行情况"


class BudgetError(DomainError):
    """An amount of the budget block that cannot be used."""


@dataclass(frozen=True)
class BudgetLine:
    """One source of funds (财政性资金, 其他资金 ...) and its three amounts in 万元."""

    source: str
    initial: Decimal | None = None
    full_year: Decimal | None = None
    executed: Decimal | None = None

    @property
    def execution_rate(self) -> Decimal | None:
        return execution_rate(self.full_year, self.executed)


@dataclass(frozen=True)
class BudgetSummary:
    lines: tuple[BudgetLine, ...]
    initial: Decimal
    full_year: Decimal
    executed: Decimal

    @property
    def execution_rate(self) -> Decimal | None:
        return execution_rate(self.full_year, self.executed)

    @property
    def adjustment_rate(self) -> Decimal | None:
        if not self.initial:
            return None
        return ((self.full_year - self.initial) / self.initial).quantize(RATE_PLACES, ROUND_HALF_UP)

    @property
    def empty(self) -> bool:
        return not any(line.full_year is not None for line in self.lines)


def execution_rate(full_year: Decimal | None, executed: Decimal | None) -> Decimal | None:
    if not full_year or executed is None:
        return None
    return (executed / full_year).quantize(RATE_PLACES, ROUND_HALF_UP)


def parse_amount(value, what: str) -> Decimal | None:
    """An amount in 万元 as typed ("1633.2", "1,633.20"); blank is None; negative is refused."""
    text = "" if value is None else str(value).replace(",", "").replace("，", "").strip()
    if not text:
        return None
    try:
        amount = to_decimal(text, what)
    except RuleError as error:
        raise BudgetError(str(error)) from None
    if amount < ZERO:
        raise BudgetError(f"{what}不能为负数")
    return amount


def summarise(lines: list[BudgetLine]) -> BudgetSummary:
    def total(field: str) -> Decimal:
        return sum((getattr(line, field) or ZERO for line in lines), ZERO)

    return BudgetSummary(tuple(lines), total("initial"), total("full_year"), total("executed"))


def fmt_money(amount: Decimal | None) -> str:
    """An amount with two places (ROUND_HALF_UP), as printed in the annex; blank for none."""
    return "" if amount is None else str(amount.quantize(MONEY_PLACES, ROUND_HALF_UP))


def reported_totals(summary: BudgetSummary, reported: dict[str, dict[str, str]]) -> list[Finding]:
    """The budget total as printed elsewhere (e.g. 正文: 1913.2) against the block's total."""
    findings = []
    for source, amounts in reported.items():
        for field, text in amounts.items():
            if field not in AMOUNT_FIELDS or not str(text).strip():
                continue
            try:
                other = parse_amount(text, AMOUNT_FIELDS[field])
            except BudgetError:
                other = None
            ours = getattr(summary, field)
            if other is None or other.quantize(MONEY_PLACES) != ours.quantize(MONEY_PLACES):
                findings.append(Finding(
                    BUDGET_NAME, "budget_total_differs",
                    f"部门预算总额的{AMOUNT_FIELDS[field]} {fmt_money(ours)} 万元与{source}所载 "
                    f"{text} 万元不一致", BUDGET_KEY,
                ))
    return findings
