"""Issue 13: a rate is an exact fraction until it is shown or scored, and is rounded once.

The oracle below is plain integer arithmetic on (k, n), independent of the program's own
rounding function: every displayed percent must be k/n rounded once, half up, and every score
the rule applied to k/n, rounded once. An exhaustive sweep over all k ≤ n ≤ 140 (10,010 pairs)
plus hypothesis for large n.
"""
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.core.assessment.tree import Indicator, evaluate
from survey.core.assessment.view import link_text, survey_link
from survey.core.exact import as_fraction, round_half_up
from survey.core.figures import OptionTally, QuestionTally, SurveyTally, compute_figures, exact_value
from survey.core.labels import percent

D = Decimal
WEIGHT = 15
RATE_RULE = {"type": "rate_times_weight"}
TARGET_RULE = {"type": "proportional", "target": 0.9, "direction": ">="}
SWEEP_MAX_N = 140


def tally(k: int, n: int) -> SurveyTally:
    options = (OptionTally(1, "满意", 100.0, True, k), OptionTally(2, "不满意", 20.0, False, n - k))
    question = QuestionTally(1, 1, "总体满意度", "scale", True, n, options)
    return SurveyTally(1, "问卷", n, n, (question,), issued=n)


def oracle_percent(k: int, n: int) -> str:
    """k/n as a percent with two places, half up, by integer arithmetic."""
    hundredths = (20000 * k + n) // (2 * n)
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def oracle_rate_score(k: int, n: int) -> Decimal:
    """15 × k/n to two places, half up."""
    cents = (2 * 100 * WEIGHT * k + n) // (2 * n)
    return D(cents).scaleb(-2)


def oracle_target_score(k: int, n: int) -> Decimal:
    """≥90% met → 15; else 15 × (k/n) / 0.9 = 50k / 3n, to two places, half up."""
    if 10 * k >= 9 * n:
        return D(WEIGHT)
    cents = (2 * 100 * 50 * k + 3 * n) // (6 * n)
    return D(cents).scaleb(-2)


def scored(link: dict, *rules: dict) -> list[Decimal]:
    """The scores the engine gives the linked figure under each rule (one tree, one leaf each)."""
    leaves = [Indicator(key=f"1.{i}", name=f"群众满意度{i}", level=2, weight=D(WEIGHT), rule=rule,
                        linked_figure=link) for i, rule in enumerate(rules, start=1)]
    root = Indicator(key="1", name="满意度", level=1, weight=D(WEIGHT * len(rules)), children=leaves)
    return [item.score for item in evaluate([root]).indicators[1:]]


def check_pair(k: int, n: int) -> None:
    figures = compute_figures(tally(k, n))
    expected = oracle_percent(k, n)
    assert exact_value(figures, "satisfaction_rate") == Fraction(k, n)
    assert figures["shown"]["satisfaction_rate"] == expected
    assert figures["questions"][0]["shown"]["satisfaction_rate"] == expected
    link = survey_link(figures, "satisfaction_rate", "2026-01-01T00:00:00+00:00")
    assert f" {expected}，" in link_text(link) + "，"
    assert scored(link, RATE_RULE, TARGET_RULE) == [oracle_rate_score(k, n),
                                                    oracle_target_score(k, n)]


def test_named_case_113_of_139_is_81_29_percent_and_scores_12_19():
    check_pair(113, 139)
    figures = compute_figures(tally(113, 139))
    assert figures["shown"]["satisfaction_rate"] == "81.29%"
    # the old double rounding (6 places, then 2) gave 81.30% and 12.20
    assert percent(round(113 / 139, 6)) == "81.30%"
    link = survey_link(figures, "satisfaction_rate", "2026-01-01T00:00:00+00:00")
    assert link["exact"] == [113, 139]
    assert scored(link, RATE_RULE) == [D("12.19")]
    assert percent(Fraction(113, 139)) == "81.29%"
    assert percent([113, 139]) == "81.29%"


@pytest.mark.parametrize("k, n", [(1, 177), (109, 141), (153, 197), (223, 273)])
def test_pairs_the_audit_named_score_once(k, n):
    check_pair(k, n)


def test_exhaustive_sweep_of_every_pair_up_to_140():
    """All 10,010 pairs 0 ≤ k ≤ n, 1 ≤ n ≤ 140: percent shown and both scores."""
    pairs = 0
    for n in range(1, SWEEP_MAX_N + 1):
        for k in range(n + 1):
            check_pair(k, n)
            pairs += 1
    assert pairs >= 10_000


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10_000_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_large_samples_round_once(pair):
    check_pair(*pair)


@given(st.integers(-10**9, 10**9), st.integers(1, 10**9), st.integers(0, 6))
def test_round_half_up_agrees_with_decimal_on_exact_decimals(num, den, places):
    """Where the fraction has a finite decimal form, Decimal's ROUND_HALF_UP is the reference."""
    fraction = Fraction(num, 2 ** (den % 20) * 5 ** (den % 7))
    exact = D(fraction.numerator) / D(fraction.denominator)
    assert Fraction(exact) == fraction
    assert round_half_up(fraction, places) == exact.quantize(D(1).scaleb(-places), "ROUND_HALF_UP")


def test_as_fraction_reads_floats_as_written():
    assert as_fraction(0.9) == Fraction(9, 10)
    assert as_fraction([113, 139]) == Fraction(113, 139)
    assert round_half_up(Fraction(1, 8), 2) == D("0.13") and round_half_up(Fraction(-1, 8), 2) == D("-0.13")
