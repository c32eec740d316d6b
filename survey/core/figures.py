"""Survey figures from tallies: the single source of every count, rate and interval shown,
exported or scored. The storage layer tallies in SQL and passes plain data in."""
from dataclasses import dataclass
from fractions import Fraction

from . import figure_text
from .errors import DomainError
from .exact import as_fraction, from_pair, round_half_up, to_pair
from .figure_text import SATISFIED_LEVEL_NAMES, VALUE_PRESET_NAMES
from .labels import percent
from .stats import (
    PRECISION_TARGET,
    margin_of_error,
    sample_size_needed,
    wilson_from_proportion,
    wilson_interval,
)

__all__ = [
    "SATISFIED_LEVEL_NAMES",
    "SCALE_LABELS",
    "VALUE_PRESETS",
    "VALUE_PRESET_NAMES",
    "FigureSettingsError",
    "OptionTally",
    "QuestionTally",
    "SurveyTally",
    "TallyError",
    "compute_figures",
    "exact_value",
    "percent",
    "precision_warning",
]

SCALE_LABELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
VALUE_PRESETS = {"linear": (100, 80, 60, 40, 20), "haocha": (100, 80, 60, 30, 0)}
QUESTION_KINDS = ("scale", "single", "multiple", "text")
HEADLINE_BASES = ("question", "scale_mean")


class TallyError(DomainError):
    """Tallies that contradict each other (more valid than returned, and the like)."""


class FigureSettingsError(DomainError):
    """Figure settings that name no known option or question."""


@dataclass(frozen=True)
class OptionTally:
    option_id: int
    label: str
    value: float | None
    satisfied: bool
    count: int


@dataclass(frozen=True)
class QuestionTally:
    question_id: int
    position: int
    text: str
    kind: str  # 'scale' | 'single' | 'multiple' | 'text'
    required: bool
    answered: int  # valid responses that answered this question
    options: tuple[OptionTally, ...] = ()
    # A conditional question (core.conditions): the valid responses it applied to, its base
    # instead of all valid responses, and its condition in words; None and "" otherwise.
    applicable: int | None = None
    condition: str = ""

    def base(self, valid: int) -> int:
        return valid if self.applicable is None else self.applicable


@dataclass(frozen=True)
class SurveyTally:
    survey_id: int
    title: str
    returned: int
    valid: int
    questions: tuple[QuestionTally, ...]
    issued: int | None = None
    form_views: int = 0
    per_day: tuple[tuple[str, int, int], ...] = ()  # (YYYY-MM-DD, returned, valid)
    population: int | None = None
    headline: str = "question"  # 'question' | 'scale_mean'
    headline_question_id: int | None = None
    satisfied_levels: int = 2
    value_preset: str = "linear"
    # 发放 per channel (None: a batch for the whole survey) and (channel, returned, valid).
    issued_channels: tuple[tuple[str | None, int], ...] = ()
    channel_counts: tuple[tuple[str, int, int], ...] = ()


# Rates that carry an exact fraction in figures["exact"] (satisfaction_index on its 0–100 scale).
EXACT_KEYS = ("return_rate", "valid_rate", "effective_return_rate", "satisfaction_rate",
              "satisfaction_rate_question", "satisfaction_rate_scale_mean", "satisfaction_index")


def _quantize(x, places: int) -> float:
    return float(round_half_up(x, places))


def _rate(x: Fraction | float | None) -> float | None:
    """A rate for JSON: the exact fraction rounded once to 6 places (shown figures use the
    fraction itself, see exact_value)."""
    return None if x is None else _quantize(x, 6)


def exact_value(figures: dict, key: str) -> Fraction | None:
    """The exact fraction behind a rate of a survey's figures, a question or an option.

    figures["exact"][key] is a [numerator, denominator] pair. An object from before exact
    fractions were kept (an older frozen snapshot) falls back to its stored number.
    """
    exact = figures.get("exact") or {}
    if key in exact:
        return from_pair(exact[key])
    value = figures.get(key)
    return None if value is None else as_fraction(value)


def _ci(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [_quantize(interval[0], 6), _quantize(interval[1], 6)]


def _index(x: float | None) -> float | None:
    return None if x is None else _quantize(x, 2)


def _check_settings(t: SurveyTally) -> None:
    if t.headline not in HEADLINE_BASES:
        raise FigureSettingsError(f"未知的满意率口径：{t.headline}")
    if t.satisfied_levels not in SATISFIED_LEVEL_NAMES:
        raise FigureSettingsError("满意口径只能是前两级或前三级")
    if t.value_preset not in VALUE_PRESETS:
        raise FigureSettingsError(f"未知的分值方案：{t.value_preset}")


def _check_question(q: QuestionTally, valid: int) -> None:
    where = f"第 {q.position} 题"
    if q.kind not in QUESTION_KINDS:
        raise TallyError(f"{where}题型未知：{q.kind}")
    if q.applicable is not None and not 0 <= q.applicable <= valid:
        raise TallyError(f"{where}的适用人数（{q.applicable}）应在 0 到有效问卷数（{valid}）之间")
    if not 0 <= q.answered <= q.base(valid):
        raise TallyError(f"{where}的回答数（{q.answered}）应在 0 到适用人数（{q.base(valid)}）之间")
    counts = [o.count for o in q.options]
    if any(c < 0 or c > q.answered for c in counts):
        raise TallyError(f"{where}的选项计数超出回答数（{q.answered}）")
    if q.kind in ("scale", "single") and q.options and sum(counts) != q.answered:
        raise TallyError(f"{where}为单选，各选项计数之和（{sum(counts)}）应等于回答数（{q.answered}）")


def _check_tally(t: SurveyTally) -> None:
    _check_settings(t)
    if t.returned < 0 or t.form_views < 0:
        raise TallyError("份数不能为负数")
    if not 0 <= t.valid <= t.returned:
        raise TallyError(f"有效问卷（{t.valid}）应在 0 到回收份数（{t.returned}）之间")
    # A staff entry that contradicts the counts (fewer issued than returned, a population
    # smaller than the sample) is reported as an absent figure with its reason, not raised:
    # the dashboard must still show everything else.
    for q in t.questions:
        _check_question(q, t.valid)


def _satisfied(q: QuestionTally) -> int:
    return sum(o.count for o in q.options if o.satisfied)


def _value_sums(questions) -> tuple[Fraction, int]:
    """Total value and number of answers carrying a value (an option without one is left out)."""
    valued = [o for q in questions for o in q.options if o.value is not None]
    return (sum((as_fraction(o.value) * o.count for o in valued), Fraction(0)),
            sum(o.count for o in valued))


def _mean_value(questions) -> Fraction | None:
    total, count = _value_sums(questions)
    return total / count if count else None


def _question_figures(q: QuestionTally, valid: int) -> dict:
    scale = q.kind == "scale"
    satisfied = _satisfied(q) if scale else None
    rate = Fraction(satisfied, q.answered) if scale and q.answered else None
    index = _mean_value([q]) if scale else None
    return {
        "question_id": q.question_id, "position": q.position, "text": q.text, "kind": q.kind,
        "required": q.required, "answered": q.answered, "skipped": q.base(valid) - q.answered,
        "applicable": q.applicable, "condition": q.condition,
        "satisfied": satisfied, "satisfaction_rate": _rate(rate),
        "satisfaction_rate_ci95": _ci(wilson_interval(satisfied, q.answered)) if scale else None,
        "satisfaction_index": _index(index),
        "exact": {"satisfaction_rate": to_pair(rate), "satisfaction_index": to_pair(index)},
        "shown": {"satisfaction_rate": percent(rate)},
        "options": [_option_figures(o, q.answered) for o in q.options],
    }


def _option_figures(o: OptionTally, answered: int) -> dict:
    share = Fraction(o.count, answered) if answered else None
    return {"option_id": o.option_id, "label": o.label, "value": o.value,
            "satisfied": o.satisfied, "count": o.count, "share": _rate(share),
            "exact": {"share": to_pair(share)}, "shown": {"share": percent(share)}}


def _headline_question(t: SurveyTally, scale: list[QuestionTally]) -> QuestionTally | None:
    if t.headline_question_id is None:
        return scale[0] if scale else None
    for q in scale:
        if q.question_id == t.headline_question_id:
            return q
    raise FigureSettingsError("总体满意度题目不存在或不是满意度量表题，请重新选择")


@dataclass(frozen=True)
class Basis:
    """What the headline satisfaction rate is computed over (also used by the wording)."""
    question: QuestionTally | None  # the headline question, if any
    answered_scale: tuple[QuestionTally, ...]  # scale questions with at least one answer
    scale_mean: bool


def _question_basis(q: QuestionTally | None) -> dict:
    n = q.answered if q else None
    satisfied = _satisfied(q) if q else None
    return {"satisfied": satisfied, "n": n,
            "rate": Fraction(satisfied, n) if n else None,
            "ci": wilson_interval(satisfied, n) if n else None,
            "index": _mean_value([q]) if q else None}


def _scale_mean_basis(answered: tuple[QuestionTally, ...]) -> dict:
    if not answered:
        return {"satisfied": None, "n": None, "rate": None, "ci": None, "index": None}
    rate = sum((Fraction(_satisfied(q), q.answered) for q in answered), Fraction(0)) / len(answered)
    n = sum(q.answered for q in answered) / len(answered)
    return {"satisfied": None, "n": n, "rate": rate, "ci": wilson_from_proportion(float(rate), n),
            "index": _mean_value(answered)}


def _counted(value: float | None) -> float | int | None:
    """A sample size as shown: whole numbers stay whole, a mean keeps two decimals."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else _quantize(value, 2)


def _planning_p(rate: float, ci: tuple[float, float]) -> float:
    """An all-or-nothing sample shows no variation; plan on the interval's inner bound."""
    if rate in (0.0, 1.0):
        return ci[1] if rate == 0.0 else ci[0]
    return rate


def _precision(headline: dict, population: int | None) -> dict:
    n, rate = headline["n"], headline["rate"]
    observed = None
    if rate is not None:
        observed = sample_size_needed(float(_planning_p(rate, headline["ci"])), PRECISION_TARGET,
                                      population)
    return {
        "margin_of_error": (_rate(margin_of_error(float(rate), n, population))
                            if rate is not None else None),
        "margin_of_error_p50": _rate(margin_of_error(0.5, n, population)) if n else None,
        "sample_size_needed": {"p50": sample_size_needed(0.5, PRECISION_TARGET, population),
                               "observed": observed},
    }


def _ratio(key: str, num: int, den: int | None) -> dict:
    valid_den = bool(den) and num <= den
    return {key: Fraction(num, den) if valid_den else None,
            f"{key}_ci95": _ci(wilson_interval(num, den)) if valid_den else None}


def _channel_row(channel: str, issued: int | None, returned: int, valid: int) -> dict:
    usable = bool(issued) and returned <= issued
    rate = Fraction(returned, issued) if usable else None
    return {"channel": channel, "issued": issued, "returned": returned, "valid": valid,
            "return_rate": _rate(rate), "exact": {"return_rate": to_pair(rate)},
            "shown": {"return_rate": percent(rate)}}


def issue_coverage(t: SurveyTally) -> dict:
    """Which answers the 回收率 sets against 发放: per channel where the issued count is known.

    Batches recorded for a channel count against that channel's answers only; batches for the
    whole survey (all batches recorded before channels were kept) against every other channel.
    Answers from a channel with no batch at all (QR answers nobody handed out) are left out of
    the rate and shown apart. Returns the per-channel rows, the covered and unissued channels
    and the numerator (returned, valid) of the overall rate.
    """
    issued_channels = t.issued_channels or ((None, t.issued),) if t.issued is not None else ()
    tagged = {c: n for c, n in issued_channels if c is not None}
    whole = sum(n for c, n in issued_channels if c is None)
    counts = {c: (r, v) for c, r, v in t.channel_counts}
    if not counts and t.returned:
        counts = {None: (t.returned, t.valid)}  # no breakdown given: one block of answers
    names = sorted(set(tagged) | {c for c in counts if c is not None})
    rows = [_channel_row(c, tagged.get(c), *counts.get(c, (0, 0))) for c in names]
    covered = [c for c in counts if c in tagged or (whole and c not in tagged)]
    unissued = [c for c in counts if c not in covered]
    return {
        "by_channel": bool(tagged),
        "rows": rows,
        "whole_survey_issued": whole or None,
        "covered": sorted(c for c in covered if c is not None),
        "unissued": sorted(c for c in unissued if c is not None),
        "returned": sum(counts[c][0] for c in covered),
        "valid": sum(counts[c][1] for c in covered),
        "unissued_returned": sum(counts[c][0] for c in unissued),
        "unissued_valid": sum(counts[c][1] for c in unissued),
    }


def _usable_population(t: SurveyTally) -> int | None:
    return t.population if t.population and t.population >= t.valid else None


def compute_figures(t: SurveyTally) -> dict:
    """Every figure of a survey, JSON-ready, with its definition and the reason for any gap."""
    _check_tally(t)
    questions = sorted(t.questions, key=lambda q: q.position)
    scale = [q for q in questions if q.kind == "scale"]
    basis = Basis(_headline_question(t, scale), tuple(q for q in scale if q.answered),
                  t.headline == "scale_mean")
    on_question = _question_basis(basis.question)
    on_mean = _scale_mean_basis(basis.answered_scale)
    headline = on_mean if basis.scale_mean else on_question
    figures = {"survey_id": t.survey_id, "title": t.title, "issued": t.issued,
               "form_views": t.form_views, "returned": t.returned, "valid": t.valid,
               "invalid": t.returned - t.valid}
    exact = {}
    coverage = issue_coverage(t)
    for ratio in (_ratio("return_rate", coverage["returned"], t.issued),
                  _ratio("valid_rate", t.valid, t.returned),
                  _ratio("effective_return_rate", coverage["valid"], t.issued)):
        for key, value in ratio.items():
            if key.endswith("_ci95"):
                figures[key] = value
            else:
                exact[key], figures[key] = value, _rate(value)
    exact.update({"satisfaction_rate": headline["rate"],
                  "satisfaction_rate_question": on_question["rate"],
                  "satisfaction_rate_scale_mean": on_mean["rate"],
                  "satisfaction_index": headline["index"]})
    figures.update({
        "satisfied": headline["satisfied"],
        "satisfaction_rate": _rate(headline["rate"]),
        "satisfaction_rate_ci95": _ci(headline["ci"]),
        "satisfaction_rate_basis": t.headline,
        "satisfaction_rate_question": _rate(on_question["rate"]),
        "satisfaction_rate_question_ci95": _ci(on_question["ci"]),
        "satisfaction_rate_scale_mean": _rate(on_mean["rate"]),
        "satisfaction_rate_scale_mean_ci95": _ci(on_mean["ci"]),
        "satisfaction_index": _index(headline["index"]),
        "population": _usable_population(t), "n": _counted(headline["n"]),
    })
    figures.update(_precision(headline, _usable_population(t)))
    figures["settings"] = {"satisfied_levels": t.satisfied_levels, "value_preset": t.value_preset,
                           "headline": t.headline,
                           "headline_question_id": basis.question.question_id
                           if basis.question else None}
    figures["channels"] = coverage
    figures["exact"] = {key: to_pair(exact[key]) for key in EXACT_KEYS}
    figures["shown"] = figure_text.shown(figures)
    figures["questions"] = [_question_figures(q, t.valid) for q in questions]
    figures["per_day"] = [{"date": d, "returned": r, "valid": v} for d, r, v in t.per_day]
    figures["definitions"] = figure_text.definitions(t, basis, figures)
    figures["absent"] = figure_text.absent(t, basis, figures)
    return figures


def precision_warning(figures: dict) -> str | None:
    """A plain warning when the headline satisfaction rate is less precise than ±5 points."""
    rate, ci = figures.get("satisfaction_rate"), figures.get("satisfaction_rate_ci95")
    if rate is None or ci is None:
        return None
    margin = figures["margin_of_error"]
    # At 0% or 100% the normal approximation claims ±0; the Wilson interval does not.
    spread = margin if 0 < rate < 1 else (ci[1] - ci[0]) / 2
    # A census of a small population needs no more answers, whatever the interval says.
    if spread <= PRECISION_TARGET or figures["sample_size_needed"]["observed"] <= figures["n"]:
        return None
    return figure_text.precision_warning_text(figures, spread)
