import json
import re
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from survey.core.assessment.rules import (
    RULE_TYPES,
    Band,
    BandsRule,
    DeductionPerPointRule,
    ProportionalRule,
    QualitativeRule,
    RateTimesWeightRule,
    RuleError,
    parse_actual,
    parse_weight,
    rule_from_json,
)

D = Decimal
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def score(rule_json, weight, actual) -> Decimal:
    return rule_from_json(rule_json).score(weight, actual).score


# --- values -----------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("0.95", D("0.95")), (0.95, D("0.95")), (1, D(1)), (D("0.9"), D("0.9")),
    ("95%", D("0.95")), ("98.95%", D("0.9895")), ("（100%）", D(1)), ("(0.1%)", D("0.001")),
    ("0.1%", D("0.001")), ("95％", D("0.95")), (" 96 % ", D("0.96")), ("0%", D(0)),
])
def test_parse_actual_reads_rates(value, expected):
    assert parse_actual(value) == expected


@pytest.mark.parametrize("word", ["健全", "合理", "一般合理", "提高"])
def test_parse_actual_keeps_words(word):
    assert parse_actual(f" {word} ") == word


@pytest.mark.parametrize("value", [None, "", "  ", "（）", "nan", "inf", "-Infinity",
                                   float("nan"), float("inf"), True, [0.9], "95%%", "1e400"])
def test_parse_actual_rejects_unusable_values(value):
    with pytest.raises(RuleError, match=CHINESE):
        parse_actual(value)


@pytest.mark.parametrize("value, expected", [("15", D(15)), (2.5, D("2.5")), (0, D(0)), (D("10"), D(10))])
def test_parse_weight(value, expected):
    assert parse_weight(value) == expected


@pytest.mark.parametrize("value", [-1, "-0.5", "十", float("nan"), float("inf"), False, None])
def test_parse_weight_rejects(value):
    with pytest.raises(RuleError, match=CHINESE):
        parse_weight(value)


VALID_RULES = {
    "proportional": {"type": "proportional", "target": 0.9, "direction": ">="},
    "rate_times_weight": {"type": "rate_times_weight"},
    "deduction_per_point": {"type": "deduction_per_point", "allowance": 0.1, "per_point": 0.05},
    "bands": {"type": "bands", "bands": [{"at_least": 0.9, "score": 1}]},
    "qualitative": {"type": "qualitative", "tier": "achieved", "fraction": 0.9},
}


@pytest.mark.parametrize("rule_type", RULE_TYPES)
def test_every_rule_type_has_a_chinese_name_and_rejects_unknown_parameters(rule_type):
    assert CHINESE.search(RULE_TYPES[rule_type])
    assert rule_from_json(VALID_RULES[rule_type]).type == rule_type
    with pytest.raises(RuleError) as error:
        rule_from_json({**VALID_RULES[rule_type], "unexpected": 1})
    assert "不认识参数：unexpected" in str(error.value)


# --- proportional -----------------------------------------------------------------------

@pytest.mark.parametrize("actual, expected", [
    ("90%", "15.00"), ("100%", "15.00"), ("89%", "14.83"), ("45%", "7.50"), ("0%", "0.00"),
    ("-5%", "0.00"), ("120%", "15.00"),
])
def test_proportional_at_least(actual, expected):
    assert score({"type": "proportional", "target": 0.9, "direction": ">="}, 15, actual) == D(expected)


@pytest.mark.parametrize("over_form, actual, expected", [
    ("ratio", "10%", "10.00"), ("ratio", "0%", "10.00"), ("ratio", "15%", "6.67"),
    ("ratio", "20%", "5.00"), ("linear", "10%", "10.00"), ("linear", "15%", "5.00"),
    ("linear", "20%", "0.00"), ("linear", "35%", "0.00"), ("linear", "10.5%", "9.50"),
])
def test_proportional_at_most(over_form, actual, expected):
    rule = {"type": "proportional", "target": 0.1, "direction": "<=", "over_form": over_form}
    assert score(rule, 10, actual) == D(expected)


def test_proportional_explanation_and_description():
    rule = rule_from_json({"type": "proportional", "target": 0.9})
    assert rule.describe() == "完成指标值（≥90%）得满分；未完成按 实际值/指标值 × 分值 计分"
    assert rule.score(15, "85%").explanation == "15 × 85.00% / 90.00% = 14.17"
    assert "得满分" in rule.score(15, "96%").explanation
    linear = rule_from_json({"type": "proportional", "target": 0.1, "direction": "<=", "over_form": "linear"})
    assert "2 倍（20%）" in linear.describe()


# --- rate × weight ----------------------------------------------------------------------

@pytest.mark.parametrize("weight, actual, expected", [
    (15, "96%", "14.40"), (15, "100%", "15.00"), (15, "120%", "15.00"), (15, "0%", "0.00"),
    (15, "-10%", "0.00"), (2, "43%", "0.86"),
    (1, "12.5%", "0.13"),  # ROUND_HALF_UP; round() would give 0.12
    ("2.675", 1, "2.68"),  # round(2.675, 2) is 2.67 in binary floating point
])
def test_rate_times_weight(weight, actual, expected):
    assert score({"type": "rate_times_weight"}, weight, actual) == D(expected)


def test_rate_times_weight_shows_its_arithmetic():
    result = RateTimesWeightRule().score(15, "96%")
    assert result.explanation == "15 × 96.00% = 14.40"
    assert "按 100% 计" in RateTimesWeightRule().score(10, "120%").explanation


# --- per-point deductions ---------------------------------------------------------------

@pytest.mark.parametrize("fraction, expected", [
    ("pro_rata", "1.66"), ("whole_points", "1.70"), ("started_point", "1.60"),
])
def test_deduction_fractions_of_a_point_as_domain_md(fraction, expected):
    # 3.4 points beyond at 5% of a 2-point weight (domain.md).
    rule = {"type": "deduction_per_point", "allowance": 0.10, "per_point": 0.05, "fraction": fraction}
    assert score(rule, 2, "13.4%") == D(expected)


@pytest.mark.parametrize("direction, actual, expected", [
    ("<=", "10%", "2.00"), ("<=", "0%", "2.00"), ("<=", "11%", "1.90"), ("<=", "100%", "0.00"),
    (">=", "10%", "2.00"), (">=", "50%", "2.00"), (">=", "9%", "1.90"), (">=", "0%", "1.00"),
    ("abs", "10%", "2.00"), ("abs", "-10%", "2.00"), ("abs", "-11%", "1.90"), ("abs", "12%", "1.80"),
])
def test_deduction_directions(direction, actual, expected):
    rule = {"type": "deduction_per_point", "allowance": 0.1, "per_point": 0.05, "direction": direction}
    assert score(rule, 2, actual) == D(expected)


def test_deduction_describes_its_counting():
    rule = rule_from_json({"type": "deduction_per_point", "allowance": 0, "per_point": 0.05,
                           "direction": "abs", "fraction": "started_point"})
    assert "不满1%按1%计算" in rule.describe()
    assert "绝对值" in rule.describe()
    explanation = rule.score(2, "-0.1%").explanation
    assert "计 1 个百分点" in explanation and "1.90" in explanation


# --- bands ------------------------------------------------------------------------------

SATISFACTION_BANDS = {"type": "bands", "bands": [
    {"at_least": 0.98, "score": 15}, {"at_least": 0.95, "score": 14},
    {"at_least": 0.90, "fraction": 0.8}, {"at_least": 0.80, "score": 6},
]}


@pytest.mark.parametrize("actual, expected", [
    ("100%", "15.00"), ("98%", "15.00"), ("97.99%", "14.00"), ("95%", "14.00"),
    ("94.99%", "12.00"), ("90%", "12.00"), ("80%", "6.00"), ("79.99%", "0.00"), ("0%", "0.00"),
])
def test_bands_at_least_inclusive_boundaries(actual, expected):
    assert score(SATISFACTION_BANDS, 15, actual) == D(expected)


def test_bands_below_every_band_scores_zero_and_says_so():
    result = rule_from_json(SATISFACTION_BANDS).score(15, "50%")
    assert result.score == D(0)
    assert "未达到任何档次" in result.explanation


@pytest.mark.parametrize("actual, expected", [("0%", "5.00"), ("5%", "5.00"), ("5.01%", "3.00"),
                                              ("10%", "3.00"), ("10.5%", "0.00")])
def test_bands_at_most(actual, expected):
    rule = {"type": "bands", "bands": [{"at_most": 0.05, "score": 5}, {"at_most": 0.10, "fraction": 0.6}]}
    assert score(rule, 5, actual) == D(expected)


def test_bands_describe_every_band():
    text = rule_from_json(SATISFACTION_BANDS).describe()
    assert text.startswith("分档计分：≥98% 得 15 分；≥95% 得 14 分；≥90% 得分值的 80%")


def test_band_score_above_the_weight_is_an_error():
    with pytest.raises(RuleError, match="超过分值"):
        rule_from_json(SATISFACTION_BANDS).score(10, "99%")


# --- qualitative ------------------------------------------------------------------------

@pytest.mark.parametrize("tier, fraction", [
    ("achieved", 0.8), ("achieved", 1), ("achieved", 0.9), ("partial", 0.6), ("partial", 0.79),
    ("not_achieved", 0), ("not_achieved", 0.59),
])
def test_qualitative_fraction_inside_its_tier(tier, fraction):
    result = rule_from_json({"type": "qualitative", "tier": tier, "fraction": fraction}).score(10, "健全")
    assert result.score == (D(10) * D(str(fraction))).quantize(D("0.01"))
    assert "健全" in result.explanation


@pytest.mark.parametrize("tier, fraction, bounds", [
    ("achieved", 0.79, "80%（含）至 100%（含）"), ("achieved", 1.01, "80%（含）至 100%（含）"),
    ("partial", 0.8, "60%（含）至 80%（不含）"), ("partial", 0.59, "60%（含）至 80%（不含）"),
    ("not_achieved", 0.6, "0%（含）至 60%（不含）"), ("not_achieved", -0.1, "0%（含）至 60%（不含）"),
])
def test_qualitative_fraction_outside_its_tier_names_the_range(tier, fraction, bounds):
    with pytest.raises(RuleError) as error:
        rule_from_json({"type": "qualitative", "tier": tier, "fraction": fraction})
    assert bounds in str(error.value)


# --- bad parameters ---------------------------------------------------------------------

@pytest.mark.parametrize("rule, fragment", [
    ("proportional", "JSON 对象"),
    ({}, "缺少 type"),
    ({"type": "magic"}, "未知的评分规则类型"),
    ({"type": ["bands"]}, "未知的评分规则类型"),
    ({"type": "proportional"}, "缺少参数：target"),
    ({"type": "proportional", "target": 0}, "大于 0"),
    ({"type": "proportional", "target": -0.5}, "大于 0"),
    ({"type": "proportional", "target": "九成"}, "必须是数值"),
    ({"type": "proportional", "target": float("nan")}, "有限"),
    ({"type": "proportional", "target": float("inf")}, "有限"),
    ({"type": "proportional", "target": True}, "必须是数值"),
    ({"type": "proportional", "target": 0.9, "direction": "=="}, "direction"),
    ({"type": "proportional", "target": 0.9, "over_form": "linear"}, "<="),
    ({"type": "proportional", "target": 0.9, "direction": "<=", "over_form": "cubic"}, "over_form"),
    ({"type": "deduction_per_point", "allowance": 0.1}, "缺少参数：per_point"),
    ({"type": "deduction_per_point", "allowance": 0.1, "per_point": 0}, "每点扣分比例"),
    ({"type": "deduction_per_point", "allowance": 0.1, "per_point": 1.5}, "每点扣分比例"),
    ({"type": "deduction_per_point", "allowance": -0.1, "per_point": 0.05, "direction": "abs"}, "不能为负数"),
    ({"type": "deduction_per_point", "allowance": 0.1, "per_point": 0.05, "fraction": "rounded"}, "fraction"),
    ({"type": "bands"}, "缺少参数：bands"),
    ({"type": "bands", "bands": []}, "非空"),
    ({"type": "bands", "bands": "0.9:15"}, "非空"),
    ({"type": "bands", "bands": [{"at_least": 0.9, "score": 1}, {"at_least": 0.95, "score": 0}]}, "从最严到最宽"),
    ({"type": "bands", "bands": [{"at_most": 0.2, "score": 1}, {"at_most": 0.1, "score": 0}]}, "由低到高"),
    ({"type": "bands", "bands": [{"at_least": 0.9, "score": 2}, {"at_least": 0.9, "score": 1}]}, "重复"),
    ({"type": "bands", "bands": [{"at_least": 0.9, "score": 1}, {"at_most": 0.8, "score": 0}]}, "at_least"),
    ({"type": "bands", "bands": [{"at_least": 0.9, "score": 1, "fraction": 0.5}]}, "中的一项"),
    ({"type": "bands", "bands": [{"at_least": 0.9}]}, "中的一项"),
    ({"type": "bands", "bands": [{"at_least": 0.9, "score": -1}]}, "不能为负数"),
    ({"type": "bands", "bands": [{"at_least": 0.9, "fraction": 1.2}]}, "0% 至 100%"),
    ({"type": "bands", "bands": [{"at_least": 0.9, "score": 1}, {"at_least": 0.8, "score": 2}]}, "不能高于"),
    ({"type": "bands", "bands": [0.9]}, "JSON 对象"),
    ({"type": "qualitative", "tier": "excellent", "fraction": 1}, "tier"),
    ({"type": "qualitative", "tier": "achieved"}, "缺少参数：fraction"),
])
def test_bad_rules_raise_a_chinese_rule_error(rule, fragment):
    with pytest.raises(RuleError) as error:
        rule_from_json(rule)
    assert CHINESE.search(str(error.value))
    assert fragment in str(error.value)


@pytest.mark.parametrize("rule", [
    {"type": "proportional", "target": 0.9}, {"type": "rate_times_weight"},
    {"type": "deduction_per_point", "allowance": 0.1, "per_point": 0.05}, SATISFACTION_BANDS,
])
@pytest.mark.parametrize("weight, actual, fragment", [
    (15, "合理", "不是数值"), (-1, "95%", "不能为负数"), ("十五", "95%", "必须是数值"),
    (15, None, "缺少实际完成值"), (15, "NaN", "有限"), (float("inf"), "95%", "有限"),
])
def test_bad_weights_and_actuals_raise_a_chinese_rule_error(rule, weight, actual, fragment):
    with pytest.raises(RuleError) as error:
        rule_from_json(rule).score(weight, actual)
    assert fragment in str(error.value)


# --- properties -------------------------------------------------------------------------

rates = st.decimals(min_value=-2, max_value=3, places=4)
positive_rates = st.decimals(min_value="0.0001", max_value=2, places=4)
weights = st.decimals(min_value=0, max_value=100, places=2)
fractions = st.decimals(min_value=0, max_value=1, places=3)


@st.composite
def bands_rules(draw):
    key = draw(st.sampled_from(["at_least", "at_most"]))
    bounds = draw(st.lists(st.decimals(min_value=0, max_value=1, places=3), min_size=1, max_size=5, unique=True))
    bounds.sort(reverse=key == "at_least")
    values = sorted(draw(st.lists(fractions, min_size=len(bounds), max_size=len(bounds))), reverse=True)
    return BandsRule(tuple(Band(bound, fraction=value) for bound, value in zip(bounds, values, strict=True)), key)


any_rules = st.one_of(
    st.builds(ProportionalRule, positive_rates, st.just(">=")),
    st.builds(ProportionalRule, positive_rates, st.just("<="), st.sampled_from(["ratio", "linear"])),
    st.just(RateTimesWeightRule()),
    st.builds(DeductionPerPointRule, st.decimals(min_value=0, max_value=1, places=3),
              st.decimals(min_value="0.001", max_value=1, places=3),
              st.sampled_from(["<=", ">=", "abs"]), st.sampled_from(list(DeductionPerPointRule.FRACTIONS))),
    bands_rules(),
    st.builds(lambda tier, t: QualitativeRule(tier, _inside(tier, t)),
              st.sampled_from(["achieved", "partial", "not_achieved"]), st.decimals(0, 1, places=3)),
)


def _inside(tier: str, t: Decimal) -> Decimal:
    low, high = {"achieved": (D("0.8"), D(1)), "partial": (D("0.6"), D("0.799")),
                 "not_achieved": (D(0), D("0.599"))}[tier]
    return (low + (high - low) * t).quantize(D("0.001"))


@given(any_rules, weights, rates)
def test_score_lies_between_zero_and_weight(rule, weight, actual):
    result = rule.score(weight, actual)
    assert D(0) <= result.score <= weight
    assert result.score == result.score.quantize(D("0.01"))
    assert str(result.score) in result.explanation or "满分" in result.explanation


@given(any_rules)
def test_json_form_round_trips(rule):
    text = json.dumps(rule.to_json())
    assert rule_from_json(json.loads(text)) == rule
    assert CHINESE.search(rule.describe())


def _rising(rule) -> bool | None:
    """True if the score should not fall as the actual rises, False if it should not rise."""
    if isinstance(rule, (ProportionalRule, DeductionPerPointRule)):
        return rule.direction == ">="
    if isinstance(rule, BandsRule):
        return rule.key == "at_least"
    return True


@given(any_rules, weights, rates, rates)
def test_score_is_monotone_in_the_actual(rule, weight, first, second):
    assume(not isinstance(rule, QualitativeRule))
    if isinstance(rule, DeductionPerPointRule) and rule.direction == "abs":
        low, high = sorted([abs(first), abs(second)])
        rising = False
    else:
        low, high = sorted([first, second])
        rising = _rising(rule)
    low_score, high_score = rule.score(weight, low).score, rule.score(weight, high).score
    assert (low_score <= high_score) if rising else (low_score >= high_score)


@given(st.lists(st.decimals(min_value=0, max_value=1, places=2), min_size=2, max_size=5, unique=True),
       st.randoms())
def test_bands_accept_only_the_strictest_first_order(bounds, random):
    ordered = sorted(bounds, reverse=True)
    shuffled = ordered[:]
    random.shuffle(shuffled)
    rule = {"type": "bands", "bands": [{"at_least": float(b), "score": 0} for b in shuffled]}
    if shuffled == ordered:
        assert [band.bound for band in rule_from_json(rule).bands] == ordered
    else:
        with pytest.raises(RuleError, match="从最严到最宽"):
            rule_from_json(rule)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.sampled_from([">=", "<=", "abs", "ratio", "linear", "achieved", "pro_rata", "0.9"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["at_least", "at_most", "score", "fraction"]), inner, max_size=3),
    max_leaves=8,
)
rule_keys = st.sampled_from(["type", "target", "direction", "over_form", "allowance", "per_point",
                             "fraction", "bands", "tier"])


@given(st.sampled_from(list(RULE_TYPES)), st.dictionaries(rule_keys, json_values, max_size=5), rates)
def test_any_json_gives_a_rule_or_a_rule_error(rule_type, params, actual):
    try:
        rule = rule_from_json({"type": rule_type, **params})
        rule.score(10, actual)
    except RuleError as error:
        assert CHINESE.search(str(error))
