"""Follow-up cases in the core: the setting, which answers open a case, the state machine,
the figures."""
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.core.cases import (
    ACTIONS,
    ADMIN_ACTIONS,
    FINAL_STATUSES,
    STATUSES,
    CaseCounts,
    CasePermissionError,
    CaseProgress,
    CaseSettings,
    CaseSettingsError,
    CaseTransitionError,
    available_actions,
    callback_consent_text,
    case_rates,
    case_triggers,
    next_status,
    summarise_cases,
)
from survey.core.figures import SCALE_LABELS
from survey.core.labels import percent


def _questions():
    """Two scale questions (ids 1, 2) and a single-choice one (3) with a misleading label."""
    def scale(qid):
        return {"id": qid, "kind": "scale", "text": f"第{qid}题",
                "options": [{"id": qid * 10 + i, "label": label}
                            for i, label in enumerate(SCALE_LABELS)]}
    single = {"id": 3, "kind": "single", "text": "业务", "options": [{"id": 31, "label": "不满意"}]}
    return [scale(1), scale(2), single]


def _answers(level1, level2, single=False):
    rows = [{"question_id": 1, "option_id": 10 + level1}, {"question_id": 2, "option_id": 20 + level2}]
    return rows + ([{"question_id": 3, "option_id": 31}] if single else [])


def test_defaults_when_missing():
    for raw in (None, {}):
        settings = CaseSettings.from_dict(raw)
        assert settings == CaseSettings()
        assert settings.levels == ("不满意", "非常不满意")
        assert settings.due_working_days == 5 and settings.enabled and settings.callback
        assert settings.question_ids is None


def test_round_trip():
    settings = CaseSettings(levels=("非常不满意",), question_ids=(2,), due_working_days=15,
                            callback=False)
    assert CaseSettings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize("raw, message", [
    ([], "格式错误"),
    ({"levels": []}, "至少选择一项"),
    ({"levels": "不满意"}, "至少选择一项"),
    ({"levels": ["不满意", " "]}, "至少选择一项"),
    ({"due_working_days": 0}, "1 到 60"),
    ({"due_working_days": 61}, "1 到 60"),
    ({"due_working_days": "5"}, "1 到 60"),
    ({"due_working_days": True}, "1 到 60"),
    ({"enabled": "yes"}, "开启或关闭"),
    ({"callback": 1}, "开启或关闭"),
    ({"question_ids": "all"}, "题目编号"),
    ({"question_ids": []}, "题目编号"),
    ({"question_ids": [1, "2"]}, "题目编号"),
    ({"level": ["不满意"]}, "未知的回访整改设置"),
])
def test_bad_settings_are_refused_in_chinese(raw, message):
    with pytest.raises(CaseSettingsError, match=message):
        CaseSettings.from_dict(raw)


@pytest.mark.parametrize("settings, answers, expected", [
    (CaseSettings(), _answers(0, 1), []),
    (CaseSettings(), _answers(2, 2), []),  # 基本满意 is not a complaint by default
    (CaseSettings(), _answers(3, 0), [(1, "不满意")]),
    (CaseSettings(), _answers(4, 3), [(1, "非常不满意"), (2, "不满意")]),
    (CaseSettings(levels=("非常不满意",)), _answers(3, 3), []),
    (CaseSettings(levels=("基本满意", "不满意")), _answers(2, 0), [(1, "基本满意")]),
    (CaseSettings(question_ids=(2,)), _answers(4, 0), []),
    (CaseSettings(question_ids=(2,)), _answers(0, 4), [(2, "非常不满意")]),
    (CaseSettings(enabled=False), _answers(4, 4), []),
    (CaseSettings(), _answers(0, 0, single=True), []),  # only scale questions count
])
def test_case_triggers_follow_the_setting(settings, answers, expected):
    found = case_triggers(settings, _questions(), answers)
    assert [(t.question_id, t.label) for t in found] == expected


@given(st.lists(st.integers(0, 4), min_size=2, max_size=2),
       st.sets(st.sampled_from(SCALE_LABELS), min_size=1),
       st.sampled_from([None, (1,), (2,), (1, 2)]))
def test_a_case_opens_exactly_when_an_answer_in_scope_has_a_chosen_level(levels, chosen, scope):
    settings = CaseSettings(levels=tuple(chosen), question_ids=scope)
    found = case_triggers(settings, _questions(), _answers(*levels))
    in_scope = [SCALE_LABELS[lv] for qid, lv in zip((1, 2), levels, strict=True) if scope is None or qid in scope]
    assert bool(found) == any(label in chosen for label in in_scope)


def test_unanswered_questions_open_nothing():
    assert case_triggers(CaseSettings(), _questions(), []) == ()


DONE = dict(has_cause=True, has_rectification=True, has_reply=True)


@pytest.mark.parametrize("status, action, role, progress, expected", [
    ("open", "assign", "staff", {}, "in_progress"),
    ("open", "callback", "staff", {}, "in_progress"),
    ("in_progress", "cause", "staff", {}, "in_progress"),
    ("in_progress", "close", "staff", DONE, "closed"),
    ("open", "close", "admin", DONE, "closed"),
    ("in_progress", "close", "staff", {**DONE, "callback_requested": True, "has_callback": True},
     "closed"),
    ("in_progress", "appeal", "staff", {}, "appeal_pending"),
    ("appeal_pending", "confirm_appeal", "admin", {}, "dismissed"),
    ("appeal_pending", "reject_appeal", "admin", {}, "in_progress"),
])
def test_allowed_transitions(status, action, role, progress, expected):
    assert next_status(CaseProgress(status=status, **progress), action, role) == expected


@pytest.mark.parametrize("status, action, role, progress, error, message", [
    ("in_progress", "close", "staff", {}, CaseTransitionError, "原因核实、整改措施、答复"),
    ("in_progress", "close", "staff", {**DONE, "callback_requested": True}, CaseTransitionError,
     "回访"),
    ("closed", "cause", "admin", {}, CaseTransitionError, "已办结"),
    ("dismissed", "close", "admin", DONE, CaseTransitionError, "不能再办理"),
    ("closed", "appeal", "staff", {}, CaseTransitionError, "不能再办理"),
    ("appeal_pending", "reply", "staff", {}, CaseTransitionError, "申诉待部门管理员确认"),
    ("appeal_pending", "close", "admin", DONE, CaseTransitionError, "申诉待部门管理员确认"),
    ("appeal_pending", "confirm_appeal", "staff", {}, CasePermissionError, "只有部门管理员"),
    ("appeal_pending", "reject_appeal", "staff", {}, CasePermissionError, "只有部门管理员"),
    ("in_progress", "confirm_appeal", "admin", {}, CaseTransitionError, "没有待确认的申诉"),
    ("open", "delete", "admin", {}, CaseTransitionError, "未知的办理事项"),
])
def test_refused_transitions_say_why(status, action, role, progress, error, message):
    with pytest.raises(error, match=message):
        next_status(CaseProgress(status=status, **progress), action, role)


progress_strategy = st.builds(CaseProgress, status=st.sampled_from(sorted(STATUSES)),
                              has_cause=st.booleans(), has_rectification=st.booleans(),
                              has_reply=st.booleans(), has_callback=st.booleans(),
                              callback_requested=st.booleans())


@given(progress_strategy, st.sampled_from(sorted(ACTIONS)), st.sampled_from(["admin", "staff"]))
def test_state_machine_invariants(progress, action, role):
    try:
        status = next_status(progress, action, role)
    except (CaseTransitionError, CasePermissionError):
        assert (progress.status in FINAL_STATUSES or action in ADMIN_ACTIONS
                or progress.status == "appeal_pending" or action == "close")
        return
    assert progress.status not in FINAL_STATUSES  # nothing leaves a final state
    if status == "dismissed":
        assert role == "admin" and progress.status == "appeal_pending"
    if status == "closed":
        assert progress.missing_for_close() == []
    assert action in available_actions(progress.status, role)  # the page offers what works


@pytest.mark.parametrize("status, role, expected", [
    ("open", "staff", ["assign", "callback", "cause", "rectify", "reply", "close", "appeal"]),
    ("appeal_pending", "staff", []),
    ("appeal_pending", "admin", ["confirm_appeal", "reject_appeal"]),
    ("closed", "admin", []),
])
def test_available_actions(status, role, expected):
    assert available_actions(status, role) == expected


def test_rates_with_empty_denominators_are_none():
    rates = case_rates(CaseCounts())
    assert rates["callback_rate"] is None and rates["on_time_rate"] is None
    assert rates["rectification_rate"] is None and rates["mean_days_to_close"] is None


def test_rates_follow_their_definitions():
    counts = CaseCounts(opened=7, dismissed=1, closed=4, closed_on_time=3, overdue_active=2,
                        callback_requested=3, called_back=2, rectified=4, close_days_total=10.25)
    rates = case_rates(counts)
    assert rates["followed_up"] == 6
    assert rates["callback_rate"] == Fraction(2, 3)
    assert rates["rectification_rate"] == Fraction(4, 6)
    assert rates["on_time_rate"] == Fraction(1, 2)  # 3 on time of 4 closed + 2 overdue still open
    assert rates["mean_days_to_close"] == 2.6  # 2.5625 half up to one place


def test_rates_stay_exact_and_are_rounded_once_when_shown():
    # 246899/2000000 = 0.1234495: rounded once it is 12.34%; rounded to 6 places first
    # (0.123450) and then shown, it would read 12.35%
    rates = case_rates(CaseCounts(opened=2000000, callback_requested=2000000, called_back=246899))
    assert rates["callback_rate"] == Fraction(246899, 2000000)
    assert percent(rates["callback_rate"]) == "12.34%"
    assert percent(case_rates(CaseCounts(callback_requested=3, called_back=2))["callback_rate"]) == "66.67%"


def test_mean_days_round_half_up_not_bankers():
    assert case_rates(CaseCounts(closed=1, close_days_total=0.25))["mean_days_to_close"] == 0.3


def test_summary_per_month_and_channel_adds_up():
    a = CaseCounts(opened=2, closed=2, closed_on_time=1, close_days_total=3.0)
    b = CaseCounts(opened=3, closed=1, closed_on_time=1, overdue_active=1, close_days_total=1.0)
    c = CaseCounts(opened=1, dismissed=1)
    summary = summarise_cases([("2024-10", "窗口 1", a), ("2024-10", "", b), ("2024-11", "窗口 1", c)])
    assert summary["total"]["opened"] == 6
    assert [m["month"] for m in summary["by_month"]] == ["2024-10", "2024-11"]
    assert summary["by_month"][0]["on_time_rate"] == 0.5  # 2 of (3 closed + 1 overdue)
    by_channel = {c["channel"]: c for c in summary["by_channel"]}
    assert by_channel["窗口 1"]["opened"] == 3 and by_channel["窗口 1"]["dismissed"] == 1
    assert by_channel[""]["mean_days_to_close"] == 1.0
    assert set(summary["definitions"]) == {"callback_rate", "rectification_rate", "on_time_rate",
                                           "mean_days_to_close"}


@given(st.lists(st.tuples(st.sampled_from(["2024-01", "2024-02"]), st.sampled_from(["", "a"]),
                          st.integers(0, 50)), max_size=6))
def test_groups_always_sum_to_the_total(rows):
    summary = summarise_cases([(m, ch, CaseCounts(opened=n)) for m, ch, n in rows])
    total = summary["total"]["opened"]
    assert total == sum(n for *_, n in rows)
    assert sum(m["opened"] for m in summary["by_month"]) == total
    assert sum(c["opened"] for c in summary["by_channel"]) == total


def test_consent_text_states_purpose_visibility_and_retention():
    text = callback_consent_text("测试部门", 90)
    for part in ("测试部门", "回访", "90 天", "自动删除", "分开保存", "不影响提交"):
        assert part in text


def test_describe_settings():
    assert "5 个工作日" in CaseSettings().describe()
    assert "未开启" in CaseSettings(enabled=False).describe()


@pytest.mark.parametrize("raw", [[], {"levels": []}, {"due_working_days": "x"}, {"bogus": 1}])
def test_malformed_stored_settings_fall_back_to_following_up(raw):
    assert CaseSettings.effective(raw) == CaseSettings()
