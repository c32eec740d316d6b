import ast
import dataclasses
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.core import figures as figures_module
from survey.core.errors import DomainError
from survey.core.figures import (
    SCALE_LABELS,
    VALUE_PRESETS,
    FigureSettingsError,
    OptionTally,
    QuestionTally,
    SurveyTally,
    TallyError,
    compute_figures,
    precision_warning,
)
from survey.core.labels import percent as format_percent
from survey.core.stats import margin_of_error, sample_size_needed, wilson_interval

NOT_FIGURES = {"survey_id", "title", "settings", "questions", "per_day", "definitions", "absent",
               "exact", "shown", "channels"}
CORE = Path(figures_module.__file__).parent


def scale(qid, counts, levels=2, preset="linear", labels=SCALE_LABELS, position=None):
    values = VALUE_PRESETS[preset]
    options = tuple(OptionTally(qid * 10 + i, label, float(values[i]), i < levels, count)
                    for i, (label, count) in enumerate(zip(labels, counts, strict=True)))
    return QuestionTally(qid, position or qid, f"第{qid}题", "scale", True, sum(counts), options)


def choice(qid, kind, answered, counts, position=None):
    options = tuple(OptionTally(qid * 10 + i, f"选项{i}", None, False, c)
                    for i, c in enumerate(counts))
    return QuestionTally(qid, position or qid, f"第{qid}题", kind, False, answered, options)


SEED_40 = scale(1, (30, 8, 2, 0, 0))  # 38 of 40 satisfied, as in the seed report


def tally(questions=(SEED_40,), returned=40, valid=40, **settings) -> SurveyTally:
    return SurveyTally(7, "群众满意度调查", returned, valid, tuple(questions), **settings)


def test_seed_survey_38_of_40_is_95_percent():
    figures = compute_figures(tally())
    assert figures["satisfied"] == 38 and figures["n"] == 40
    assert figures["satisfaction_rate"] == 0.95
    assert format_percent(figures["satisfaction_rate"]) == "95.00%"
    low, high = figures["satisfaction_rate_ci95"]
    assert low == pytest.approx(0.835, abs=5e-4) and high == pytest.approx(0.986, abs=5e-4)
    assert figures["satisfaction_rate_ci95"] == figures["questions"][0]["satisfaction_rate_ci95"]


def test_seed_survey_100_issued_100_valid_96_percent():
    figures = compute_figures(tally([scale(1, (70, 26, 3, 1, 0))], returned=100, valid=100,
                                    issued=100))
    assert (figures["return_rate"], figures["valid_rate"],
            figures["effective_return_rate"]) == (1.0, 1.0, 1.0)
    assert figures["satisfaction_rate"] == 0.96 and figures["invalid"] == 0
    assert figures["absent"] == {"population": "未登记总体人数，按无限总体计算"}


def test_response_rates_and_their_intervals():
    figures = compute_figures(tally(returned=50, valid=40, issued=80))
    assert figures["return_rate"] == 0.625
    assert figures["valid_rate"] == 0.8
    assert figures["effective_return_rate"] == 0.5
    assert figures["valid_rate_ci95"] == pytest.approx(list(wilson_interval(40, 50)), abs=1e-6)
    assert figures["return_rate_ci95"] == pytest.approx(list(wilson_interval(50, 80)), abs=1e-6)


@pytest.mark.parametrize("issued, reason", [(None, "未登记发放份数"), (0, "发放份数为 0，无法计算")])
def test_rates_over_issued_are_absent_with_a_reason(issued, reason):
    figures = compute_figures(tally([], returned=0, valid=0, issued=issued))
    for key in ("return_rate", "return_rate_ci95", "effective_return_rate",
                "effective_return_rate_ci95"):
        assert figures[key] is None and figures["absent"][key] == reason
    assert figures["absent"]["valid_rate"] == "尚无回收问卷，无法计算"


def test_skipped_answers_are_reported_but_never_in_a_denominator():
    figures = compute_figures(tally([scale(1, (20, 10, 5, 3, 2))], returned=60, valid=50))
    question = figures["questions"][0]
    assert question["answered"] == 40 and question["skipped"] == 10
    assert question["satisfaction_rate"] == 0.75 == figures["satisfaction_rate"]
    assert figures["n"] == 40


@pytest.mark.parametrize("levels, labels_text, satisfied", [
    (2, "(非常满意+满意) / 有效回答 = 38 / 40", 38),
    (3, "(非常满意+满意+基本满意) / 有效回答 = 40 / 40", 40),
])
def test_satisfied_levels_change_the_rate_and_its_wording(levels, labels_text, satisfied):
    figures = compute_figures(tally([scale(1, (30, 8, 2, 0, 0), levels=levels)],
                                    satisfied_levels=levels))
    assert figures["satisfied"] == satisfied
    assert labels_text in figures["definitions"]["satisfaction_rate"]
    assert figures["settings"]["satisfied_levels"] == levels


def test_wording_names_the_top_two_setting_and_the_value_preset():
    definitions = compute_figures(tally())["definitions"]
    assert "按'前两级（非常满意、满意）计为满意'口径" in definitions["satisfaction_rate"]
    assert ("分值：非常满意 100、满意 80、基本满意 60、不满意 40、非常不满意 20"
            in definitions["satisfaction_index"])
    assert "3760 / 40 = 94" in definitions["satisfaction_index"]


def test_wording_uses_the_actual_option_labels():
    labels = ("非常满意", "比较满意", "一般", "不满意", "非常不满意")
    definitions = compute_figures(tally([scale(1, (30, 8, 2, 0, 0), labels=labels)]))["definitions"]
    assert "(非常满意+比较满意) / 有效回答 = 38 / 40" in definitions["satisfaction_rate"]


@pytest.mark.parametrize("preset, counts, index, wording", [
    ("linear", (30, 8, 2, 0, 0), 94.0, "不满意 40、非常不满意 20"),
    ("haocha", (30, 8, 2, 0, 0), 94.0, "不满意 30、非常不满意 0"),
    ("haocha", (0, 0, 0, 4, 4), 15.0, "不满意 30、非常不满意 0"),
    ("linear", (1, 1, 1, 0, 0), 80.0, "基本满意 60"),
    ("linear", (1, 1, 0, 0, 1), 66.67, "满意 80"),
])
def test_satisfaction_index_follows_the_value_preset(preset, counts, index, wording):
    figures = compute_figures(tally([scale(1, counts, preset=preset)], returned=sum(counts),
                                    valid=sum(counts), value_preset=preset))
    assert figures["satisfaction_index"] == index
    assert wording in figures["definitions"]["satisfaction_index"]


def test_index_rounds_half_up_not_to_even():
    options = (OptionTally(1, "甲", 1.0, True, 1), OptionTally(2, "乙", 0.01, False, 1))
    question = QuestionTally(1, 1, "题", "scale", True, 2, options)
    assert compute_figures(tally([question], returned=2, valid=2))["satisfaction_index"] == 0.51


def test_rates_round_half_up_to_six_places():
    question = scale(1, (246_913, 0, 0, 1_753_087, 0))  # 0.1234565 exactly
    figures = compute_figures(tally([question], returned=2_000_000, valid=2_000_000))
    assert figures["satisfaction_rate"] == 0.123457


def test_multiple_choice_shares_are_over_answering_respondents():
    question = choice(2, "multiple", 20, (15, 10, 5))
    figures = compute_figures(tally([SEED_40, question]))
    shares = [o["share"] for o in figures["questions"][1]["options"]]
    assert shares == [0.75, 0.5, 0.25]
    assert figures["questions"][1]["satisfaction_rate"] is None


def test_questions_come_in_position_order_and_first_scale_is_the_headline():
    later = scale(1, (10, 10, 10, 10, 0), position=5)
    first = scale(2, (30, 8, 2, 0, 0), position=2)
    figures = compute_figures(tally([later, first]))
    assert [q["position"] for q in figures["questions"]] == [2, 5]
    assert figures["settings"]["headline_question_id"] == 2
    assert figures["satisfaction_rate"] == 0.95


def test_headline_question_can_be_chosen():
    figures = compute_figures(tally([SEED_40, scale(2, (10, 10, 10, 10, 0))],
                                    headline_question_id=2))
    assert figures["satisfaction_rate"] == 0.5
    assert "以第 2 题“第2题”为准" in figures["definitions"]["satisfaction_rate"]


@pytest.mark.parametrize("question_id", [99, 2])
def test_headline_must_be_an_existing_scale_question(question_id):
    with pytest.raises(FigureSettingsError):
        compute_figures(tally([SEED_40, choice(2, "single", 40, (40,))],
                              headline_question_id=question_id))


def test_scale_mean_basis_averages_question_rates():
    q1, q2 = scale(1, (30, 8, 2, 0, 0)), scale(2, (10, 10, 10, 5, 0), position=2)
    figures = compute_figures(tally([q1, q2], headline="scale_mean"))
    expected = (38 / 40 + 20 / 35) / 2
    assert figures["satisfaction_rate"] == pytest.approx(expected, abs=5e-7)
    assert figures["satisfaction_rate"] == figures["satisfaction_rate_scale_mean"]
    assert figures["satisfaction_rate_question"] == 0.95
    assert figures["n"] == 37.5
    assert figures["satisfied"] is None and "satisfied" in figures["absent"]
    assert figures["satisfaction_index"] == pytest.approx((3760 + 2600) / 75, abs=0.005)
    assert "近似" in figures["definitions"]["satisfaction_rate_ci95"]
    assert figures["satisfaction_rate_basis"] == "scale_mean"


def test_scale_mean_ignores_unanswered_scale_questions():
    figures = compute_figures(tally([SEED_40, scale(2, (0, 0, 0, 0, 0))], headline="scale_mean"))
    assert figures["satisfaction_rate"] == 0.95 and figures["n"] == 40


def test_population_applies_finite_population_correction():
    figures = compute_figures(tally(population=1000))
    assert figures["margin_of_error"] == pytest.approx(margin_of_error(0.95, 40, 1000), abs=1e-6)
    assert figures["margin_of_error"] < compute_figures(tally())["margin_of_error"]
    assert figures["sample_size_needed"]["p50"] == 278
    assert "有限总体校正" in figures["definitions"]["margin_of_error"]


def test_sample_sizes_for_large_populations_and_observed_rate():
    figures = compute_figures(tally([scale(1, (30, 6, 4, 0, 0))]))  # 90%
    assert figures["sample_size_needed"] == {"p50": 385, "observed": 139}
    assert figures["margin_of_error_p50"] == pytest.approx(margin_of_error(0.5, 40), abs=1e-6)


def test_all_satisfied_sample_plans_on_the_interval_bound():
    figures = compute_figures(tally([scale(1, (20, 0, 0, 0, 0))], returned=20, valid=20))
    assert figures["margin_of_error"] == 0.0
    low = wilson_interval(20, 20)[0]
    assert figures["sample_size_needed"]["observed"] == sample_size_needed(low)


def test_no_scale_question_explains_every_gap():
    figures = compute_figures(tally([choice(1, "single", 40, (25, 15))]))
    for key in ("satisfaction_rate", "satisfaction_index", "n", "margin_of_error"):
        assert figures[key] is None
        assert figures["absent"][key] == "问卷中没有满意度量表题"
    assert figures["questions"][0]["options"][0]["share"] == 0.625


def test_zero_valid_answers_say_so():
    figures = compute_figures(tally([scale(1, (0, 0, 0, 0, 0))], returned=3, valid=0))
    assert figures["satisfaction_rate"] is None
    assert figures["absent"]["satisfaction_rate"] == "无有效回答，无法计算"
    assert figures["absent"]["sample_size_needed.observed"] == "无有效回答，无法计算"
    assert figures["sample_size_needed"]["p50"] == 385
    assert precision_warning(figures) is None


def test_per_day_is_passed_through():
    figures = compute_figures(tally(per_day=(("2023-03-01", 30, 28), ("2023-03-02", 10, 12))))
    assert figures["per_day"] == [{"date": "2023-03-01", "returned": 30, "valid": 28},
                                  {"date": "2023-03-02", "returned": 10, "valid": 12}]


@pytest.mark.parametrize("changes", [
    {"valid": 41}, {"returned": -1}, {"form_views": -1},
    {"questions": (scale(1, (30, 8, 2, 0, 1)),)},  # 41 answers among 40 valid
    {"questions": (dataclasses.replace(SEED_40, answered=39),)},
    {"questions": (choice(2, "multiple", 10, (11,)),)},
    {"questions": (choice(2, "ranking", 10, ()),)},
])
def test_contradictory_tallies_are_rejected_in_chinese(changes):
    with pytest.raises(TallyError) as info:
        compute_figures(dataclasses.replace(tally(), **changes))
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(info.value))


@pytest.mark.parametrize("changes, key, reason", [
    ({"issued": 39}, "return_rate", "超过登记的发放份数"),
    ({"issued": 39}, "effective_return_rate", "请核对发放登记"),
    ({"population": 39}, "population", "少于有效问卷数"),
    ({"population": 0}, "population", "按无限总体计算"),
])
def test_staff_entries_contradicting_the_counts_leave_the_figure_absent(changes, key, reason):
    figures = compute_figures(dataclasses.replace(tally(), **changes))
    assert figures[key] is None
    assert reason in figures["absent"][key]
    assert figures["satisfaction_rate"] == 0.95


@pytest.mark.parametrize("changes", [{"headline": "overall"}, {"satisfied_levels": 4},
                                     {"value_preset": "ten-point"}])
def test_unknown_settings_are_rejected(changes):
    with pytest.raises(FigureSettingsError) as info:
        compute_figures(dataclasses.replace(tally(), **changes))
    assert isinstance(info.value, DomainError)


@pytest.mark.parametrize("rate, places, text", [
    (0.95, 2, "95.00%"), (1.0, 2, "100.00%"), (0.0, 2, "0.00%"), (None, 2, "—"),
    (0.989550, 2, "98.96%"), (0.123455, 2, "12.35%"), (0.0675, 1, "6.8%"), (0.96, 0, "96%"),
])
def test_format_percent_rounds_half_up(rate, places, text):
    assert format_percent(rate, places) == text


def test_precision_warning_for_the_seed_survey():
    figures = compute_figures(tally())
    assert precision_warning(figures) == (
        "样本量 40 份，满意率的误差范围约 ±6.8 个百分点，无法区分 83.5% 与 98.6%；"
        "达到 ±5% 精度约需 73 份有效问卷。")


def test_precision_warning_when_everyone_is_satisfied():
    warning = precision_warning(compute_figures(tally([scale(1, (20, 0, 0, 0, 0))],
                                                      returned=20, valid=20)))
    assert warning.startswith("样本量 20 份") and "100.0%" in warning


def test_no_precision_warning_for_a_large_enough_sample():
    question = scale(1, (200, 185, 0, 0, 0))
    assert precision_warning(compute_figures(tally([question], returned=385, valid=385))) is None


@st.composite
def partitions(draw, total, parts):
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=parts - 1, max_size=parts - 1)))
    bounds = [0, *cuts, total]
    return tuple(b - a for a, b in itertools.pairwise(bounds))


@st.composite
def questions(draw, qid, valid):
    kind = draw(st.sampled_from(["scale", "single", "multiple", "text"]))
    answered = draw(st.integers(0, valid))
    if kind == "scale":
        return dataclasses.replace(scale(qid, draw(partitions(answered, 5))), position=qid)
    if kind == "single":
        return choice(qid, kind, answered, draw(partitions(answered, draw(st.integers(1, 6)))))
    if kind == "multiple":
        counts = draw(st.lists(st.integers(0, answered), min_size=1, max_size=6))
        return choice(qid, kind, answered, tuple(counts))
    return choice(qid, kind, answered, ())


@st.composite
def tallies(draw):
    returned = draw(st.integers(0, 500))
    valid = draw(st.integers(0, returned))
    qs = tuple(draw(questions(i, valid)) for i in range(1, draw(st.integers(0, 5)) + 1))
    scale_ids = [q.question_id for q in qs if q.kind == "scale"]
    return SurveyTally(
        1, "问卷", returned, valid, qs,
        issued=draw(st.one_of(st.none(), st.integers(returned, returned + 500))),
        form_views=draw(st.integers(0, 1000)),
        population=draw(st.one_of(st.none(), st.integers(max(valid, 1), 10**6))),
        headline=draw(st.sampled_from(["question", "scale_mean"])),
        headline_question_id=draw(st.sampled_from([None, *scale_ids])),
        satisfied_levels=draw(st.sampled_from([2, 3])))


@given(tallies())
def test_any_consistent_tally_gives_complete_json_figures(t):
    figures = compute_figures(t)
    json.dumps(figures, allow_nan=False)
    keys = set(figures) - NOT_FIGURES
    assert set(figures["definitions"]) == keys
    missing = {k for k in keys if figures[k] is None}
    if figures["sample_size_needed"]["observed"] is None:
        missing.add("sample_size_needed.observed")
    assert set(figures["absent"]) == missing


@given(tallies())
def test_rates_lie_in_their_intervals(t):
    figures = compute_figures(t)
    for key in ("return_rate", "valid_rate", "effective_return_rate", "satisfaction_rate",
                "satisfaction_rate_question", "satisfaction_rate_scale_mean"):
        rate, ci = figures[key], figures[f"{key}_ci95"]
        assert (rate is None) == (ci is None)
        if rate is not None:
            assert 0.0 <= ci[0] <= rate <= ci[1] <= 1.0


@given(tallies())
def test_single_choice_shares_sum_to_one(t):
    for question in compute_figures(t)["questions"]:
        if question["kind"] in ("single", "scale") and question["answered"]:
            total = sum(o["share"] for o in question["options"])
            assert total == pytest.approx(1.0, abs=5e-7 * len(question["options"]))
        assert question["skipped"] == t.valid - question["answered"]


@given(tallies())
def test_precision_warning_asks_for_more_than_was_collected(t):
    figures = compute_figures(t)
    warning = precision_warning(figures)
    if warning is not None:
        assert figures["sample_size_needed"]["observed"] > figures["n"]
        assert warning.endswith("份有效问卷。")


@pytest.mark.parametrize("module", ["stats.py", "screening.py", "figures.py", "figure_text.py"])
def test_core_module_imports_neither_flask_nor_sqlite(module):
    tree = ast.parse((CORE / module).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert not imported & {"flask", "sqlite_utils", "sqlite3"}


def test_no_precision_warning_when_the_whole_population_answered():
    figures = compute_figures(tally([scale(1, (13, 0, 0, 0, 0))], returned=13, valid=13,
                                    population=13))
    assert figures["margin_of_error"] == 0.0
    assert precision_warning(figures) is None
