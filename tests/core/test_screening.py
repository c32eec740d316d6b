import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.core.errors import DomainError
from survey.core.screening import (
    REASON_TEXT,
    ManualDecision,
    MissingReasonError,
    ResponseFacts,
    ScreeningRules,
    ScreeningRulesError,
    Verdict,
    effective_verdict,
    screen,
)

CLEAN = ResponseFacts(missing_required=0, duration_seconds=95.0, device_seen_before=False,
                      scale_values=(100.0, 80.0, 80.0, 60.0))
ALL_OFF = ScreeningRules(require_complete=False, min_seconds=None, dedupe_device=False,
                         straightlining=False)


def facts(**changes) -> ResponseFacts:
    return dataclasses.replace(CLEAN, **changes)


def test_defaults_match_the_documented_settings():
    rules = ScreeningRules()
    assert (rules.require_complete, rules.min_seconds, rules.dedupe_device,
            rules.straightlining, rules.straightlining_min_questions) == (True, 10.0, True, False, 8)


def test_clean_response_is_valid_under_every_rule():
    every = ScreeningRules(straightlining=True, straightlining_min_questions=2)
    assert screen(CLEAN, every) == Verdict(valid=True, reasons=())


@pytest.mark.parametrize("changes, rules, reason", [
    ({"missing_required": 1}, ScreeningRules(), "incomplete"),
    ({"duration_seconds": 9.99}, ScreeningRules(), "too_fast"),
    ({"duration_seconds": 3.0}, ScreeningRules(min_seconds=5), "too_fast"),
    ({"device_seen_before": True}, ScreeningRules(), "duplicate_device"),
    ({"scale_values": (80.0,) * 8}, ScreeningRules(straightlining=True), "straightlining"),
    ({"scale_values": (20.0,) * 3},
     ScreeningRules(straightlining=True, straightlining_min_questions=3), "straightlining"),
])
def test_each_rule_rejects_what_it_describes(changes, rules, reason):
    verdict = screen(facts(**changes), rules)
    assert verdict == Verdict(valid=False, reasons=(reason,))


@pytest.mark.parametrize("changes", [
    {"missing_required": 3}, {"duration_seconds": 1.0}, {"device_seen_before": True},
    {"scale_values": (80.0,) * 12},
])
def test_switched_off_rules_never_reject(changes):
    assert screen(facts(**changes), ALL_OFF).valid


@pytest.mark.parametrize("changes, rules", [
    ({"duration_seconds": None}, ScreeningRules(min_seconds=1000)),  # paper entry
    ({"duration_seconds": 10.0}, ScreeningRules(min_seconds=10)),    # exactly the minimum
    ({"scale_values": (80.0,) * 7}, ScreeningRules(straightlining=True)),  # too few to judge
    ({"scale_values": (80.0,) * 7 + (60.0,)}, ScreeningRules(straightlining=True)),
    ({"scale_values": ()}, ScreeningRules(straightlining=True, straightlining_min_questions=2)),
])
def test_borderline_responses_stay_valid(changes, rules):
    assert screen(facts(**changes), rules).valid


def test_every_failed_rule_is_reported_in_fixed_order():
    bad = ResponseFacts(missing_required=2, duration_seconds=2.0, device_seen_before=True,
                        scale_values=(100.0,) * 9)
    verdict = screen(bad, ScreeningRules(straightlining=True))
    assert verdict.reasons == ("incomplete", "too_fast", "duplicate_device", "straightlining")
    assert verdict.describe() == "无效：" + "；".join(REASON_TEXT[r] for r in verdict.reasons)


@given(st.integers(0, 5), st.one_of(st.none(), st.floats(0, 600)), st.booleans(),
       st.lists(st.sampled_from([100.0, 80.0, 60.0, 40.0, 20.0]), max_size=12),
       st.builds(ScreeningRules, st.booleans(), st.one_of(st.none(), st.floats(0, 60)),
                 st.booleans(), st.booleans(), st.integers(2, 12)))
def test_verdict_is_valid_exactly_when_no_reason(missing, duration, seen, values, rules):
    verdict = screen(ResponseFacts(missing, duration, seen, tuple(values)), rules)
    assert verdict.valid == (verdict.reasons == ())
    assert set(verdict.reasons) <= set(REASON_TEXT)
    assert ("too_fast" in verdict.reasons) <= (duration is not None)


def test_valid_verdict_describes_itself():
    assert Verdict(valid=True, reasons=()).describe() == "有效"


@pytest.mark.parametrize("rules, expected", [
    (ScreeningRules(), ["必答题未全部作答的问卷视为无效", "答题用时少于 10 秒的问卷视为无效",
                        "同一设备重复提交的问卷，仅第一份有效"]),
    (ScreeningRules(min_seconds=7.5, require_complete=False, dedupe_device=False),
     ["答题用时少于 7.5 秒的问卷视为无效"]),
    (dataclasses.replace(ALL_OFF, straightlining=True, straightlining_min_questions=6),
     ["量表题不少于 6 道且全部选择同一选项的问卷视为无效"]),
    (ALL_OFF, []),
    (dataclasses.replace(ALL_OFF, min_seconds=0), []),
])
def test_describe_lists_each_active_rule(rules, expected):
    assert rules.describe() == expected


def test_from_dict_fills_missing_keys_with_defaults():
    assert ScreeningRules.from_dict({}) == ScreeningRules()
    assert ScreeningRules.from_dict(None) == ScreeningRules()
    assert ScreeningRules.from_dict({"min_seconds": None}) == ScreeningRules(min_seconds=None)


@given(st.builds(ScreeningRules, st.booleans(), st.one_of(st.none(), st.floats(0, 1e4)),
                 st.booleans(), st.booleans(), st.integers(2, 100)))
def test_dict_round_trip(rules):
    assert ScreeningRules.from_dict(rules.to_dict()) == rules


@pytest.mark.parametrize("data", [
    {"require_complete": "yes"}, {"require_complete": 1}, {"dedupe_device": None},
    {"straightlining": "false"}, {"min_seconds": "10"}, {"min_seconds": -1},
    {"min_seconds": True}, {"min_seconds": float("nan")}, {"min_seconds": float("inf")},
    {"straightlining_min_questions": 1},
    {"straightlining_min_questions": 8.0}, {"straightlining_min_questions": True},
    {"min_secs": 10}, "require_complete",
])
def test_from_dict_rejects_bad_settings_in_chinese(data):
    with pytest.raises(ScreeningRulesError) as info:
        ScreeningRules.from_dict(data)
    assert isinstance(info.value, DomainError)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(info.value))


def test_manual_decision_overrides_and_keeps_its_reason():
    auto = screen(facts(duration_seconds=4.0), ScreeningRules())
    verdict = effective_verdict(auto, ManualDecision(valid=True, reason="  纸质问卷补录，用时未计  "))
    assert verdict.valid and not auto.valid
    assert verdict.manual_reason == "纸质问卷补录，用时未计"
    assert verdict.describe() == "人工判定为有效，理由：纸质问卷补录，用时未计"


def test_manual_decision_can_invalidate():
    verdict = effective_verdict(screen(CLEAN, ScreeningRules()),
                                ManualDecision(valid=False, reason="同一人代填多份"))
    assert not verdict.valid and verdict.describe() == "人工判定为无效，理由：同一人代填多份"


def test_without_manual_decision_the_automatic_verdict_stands():
    auto = screen(facts(missing_required=1), ScreeningRules())
    assert effective_verdict(auto, None) is auto


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_manual_decision_needs_a_reason(reason):
    with pytest.raises(MissingReasonError, match="请填写判定理由"):
        effective_verdict(Verdict(True, ()), ManualDecision(valid=False, reason=reason))
