"""The wording beside every figure: how it was computed, with which settings, and why a
figure is missing. Kept apart from figures.py so the arithmetic stays short."""
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .exact import from_pair, round_half_up
from .labels import percent

VALUE_PRESET_NAMES = {"linear": "线性分值方案", "haocha": "好差评分值方案"}
SATISFIED_LEVEL_NAMES = {2: "前两级", 3: "前三级"}
NO_ANSWERS = "无有效回答，无法计算"

_RATE_NAMES = {
    "return_rate": "回收率", "valid_rate": "问卷有效率", "effective_return_rate": "有效回收率",
    "satisfaction_rate": "满意率", "satisfaction_rate_question": "总体满意度题满意率",
    "satisfaction_rate_scale_mean": "各量表题平均满意率",
}
# Keys of the result that are not figures and so carry no definition.
_NOT_FIGURES = {"survey_id", "title", "settings", "questions", "per_day", "definitions", "absent",
                "exact", "shown", "channels"}
_SHOWN_RATES = ("return_rate", "valid_rate", "effective_return_rate", "satisfaction_rate",
                "satisfaction_rate_question", "satisfaction_rate_scale_mean")


def shown(figures: dict) -> dict:
    """Each rate as every surface prints it, from its exact fraction: one string per figure."""
    exact = figures["exact"]
    texts = {key: percent(from_pair(exact[key])) for key in _SHOWN_RATES}
    index = from_pair(exact["satisfaction_index"])
    texts["satisfaction_index"] = "—" if index is None else str(round_half_up(index, 2))
    return texts


def _points(rate: float) -> str:
    """A margin as percentage points with one decimal: 0.0675 -> '6.8'."""
    return str((Decimal(str(rate)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _num(x) -> str:
    if x is None:
        return "—"
    return format(Decimal(str(x)).normalize(), "f") if isinstance(x, float) else str(x)


def _question_name(q) -> str:
    return f"第 {q.position} 题“{q.text}”"


def _basis_questions(basis) -> list:
    if basis.scale_mean:
        return list(basis.answered_scale)
    return [basis.question] if basis.question else []


def _unique(pairs) -> list:
    return list(dict.fromkeys(pairs))


def _satisfied_labels(questions) -> list[str]:
    return _unique(o.label for q in questions for o in q.options if o.satisfied)


def _levels_phrase(t, labels: list[str]) -> str:
    return f"按'{SATISFIED_LEVEL_NAMES[t.satisfied_levels]}（{'、'.join(labels)}）计为满意'口径"


def _values_phrase(t, questions) -> str:
    pairs = _unique((o.label, o.value) for q in questions for o in q.options
                    if o.value is not None)
    values = "、".join(f"{label} {_num(value)}" for label, value in pairs)
    return f"采用{VALUE_PRESET_NAMES[t.value_preset]}，分值：{values}"


def _fpc_phrase(t) -> str:
    if t.population is None:
        return "，按无限总体计算"
    return f"，并按总体 {t.population} 人作有限总体校正 √((N−n)/(N−1))"


def _counts(num, den) -> str:
    return f" = {num} / {den}" if den else ""


def _index_sums(questions) -> str:
    valued = [o for q in questions for o in q.options if o.value is not None]
    total = sum(o.value * o.count for o in valued)
    return _counts(_num(float(total)), sum(o.count for o in valued))


# The name of answers with no channel tag (as store.dashboard.UNTAGGED_CHANNEL; the shared
# vocabulary is moving to one labels module).
UNTAGGED = "未标注渠道"


def channel_name(channel: str | None) -> str:
    return channel or UNTAGGED


def coverage_phrase(coverage: dict) -> str:
    """Which channels 回收率 covers, in words (beside the figure on every surface)."""
    if not coverage["by_channel"]:
        return ("；发放按全问卷登记（未分渠道），回收含全部渠道的回答（包括扫码等未经发放的回答），"
                "回收率可能偏高；请按渠道登记发放")
    covered = "、".join(map(channel_name, coverage["covered"])) or "无"
    text = f"；仅计已登记发放的渠道：{covered}"
    if coverage["whole_survey_issued"]:
        text += f"（含按全问卷登记的发放 {coverage['whole_survey_issued']} 份，计入未单独登记的渠道）"
    if coverage["unissued_returned"]:
        names = "、".join(map(channel_name, coverage["unissued"]))
        text += (f"；未登记发放的渠道（{names}）回收 {coverage['unissued_returned']} 份，"
                 "另列，不计入回收率")
    return text


def _ratio_texts(t, figures: dict) -> dict:
    coverage = figures["channels"]
    phrase = coverage_phrase(coverage) if t.issued is not None else ""
    return {
        "return_rate": "回收率 = 回收 / 发放" + _counts(coverage["returned"], t.issued) + phrase,
        "valid_rate": "问卷有效率 = 有效 / 回收" + _counts(t.valid, t.returned),
        "effective_return_rate": ("有效回收率 = 有效 / 发放" + _counts(coverage["valid"], t.issued)
                                  + phrase),
    }


def _count_texts(t) -> dict:
    issued = "未登记" if t.issued is None else str(t.issued)
    return {
        "issued": f"发放：登记发放的问卷份数 = {issued}",
        "form_views": f"问卷页面被打开的次数 = {t.form_views}",
        "returned": f"回收：收到的问卷份数（含无效问卷）= {t.returned}",
        "valid": f"有效：回收问卷中通过有效性筛选的份数 = {t.valid}",
        "invalid": f"无效 = 回收 − 有效 = {t.returned - t.valid}",
        "population": (f"总体人数（调查对象总数，用于有限总体校正）= {t.population}"
                       if t.population is not None else "未登记总体人数，按无限总体计算"),
    }


def _question_rate_text(t, q) -> str:
    if q is None:
        return "满意率：问卷中没有满意度量表题"
    labels = _satisfied_labels([q])
    satisfied = sum(o.count for o in q.options if o.satisfied)
    return (f"满意率 = ({'+'.join(labels)}) / 有效回答{_counts(satisfied, q.answered)}，"
            f"{_levels_phrase(t, labels)}，以{_question_name(q)}为准")


def _scale_mean_text(t, basis) -> str:
    answered = basis.answered_scale
    labels = _satisfied_labels(answered)
    rates = " + ".join(percent(Fraction(sum(o.count for o in q.options if o.satisfied),
                                        q.answered))
                       for q in answered)
    listed = f" = ({rates}) / {len(answered)}" if answered else ""
    return (f"满意率 = 各量表题满意率的平均值{listed}，每题满意率 = ({'+'.join(labels)}) / "
            f"该题有效回答，共 {len(answered)} 道有回答的量表题，{_levels_phrase(t, labels)}")


def _satisfaction_texts(t, basis, figures) -> dict:
    on_question = _question_rate_text(t, basis.question)
    on_mean = _scale_mean_text(t, basis)
    questions = _basis_questions(basis)
    if basis.scale_mean:
        satisfied = "按各题满意率平均口径，不对应单一满意人数"
        n = f"满意率的分母（近似）：平均每道量表题的有效回答数 = {_num(figures['n'])}"
        index_over = "全部量表题回答分值的平均值"
    else:
        q = basis.question
        labels = "或".join(_satisfied_labels(questions))
        satisfied = (f"满意人数 = {_question_name(q)}中选择{labels}的有效回答数 = "
                     f"{figures['satisfied']}" if q else "满意人数：问卷中没有满意度量表题")
        n = f"满意率的分母：{_question_name(q)}的有效回答数 = {q.answered}" if q else \
            "满意率的分母：问卷中没有满意度量表题"
        index_over = "总体满意度题各有效回答分值的平均值"
    return {
        "satisfied": satisfied, "n": n,
        "satisfaction_rate": on_mean if basis.scale_mean else on_question,
        "satisfaction_rate_basis": "满意率口径：" + (
            "各量表题满意率的平均值" if basis.scale_mean else "总体满意度题的满意率"),
        "satisfaction_rate_question": on_question,
        "satisfaction_rate_scale_mean": on_mean,
        "satisfaction_index": (f"满意度指数（0–100）= {index_over}{_index_sums(questions)} = "
                               f"{_num(figures['satisfaction_index'])}，"
                               f"{_values_phrase(t, questions)}"),
    }


def _ci_text(key: str, figures: dict, basis) -> str:
    rate = key.removesuffix("_ci95")
    ci = figures[key]
    shown = f" = [{percent(ci[0])}, {percent(ci[1])}]" if ci else ""
    text = f"{_RATE_NAMES[rate]}的 95% 置信区间（Wilson 法）{shown}，与该比率同分子同分母"
    if rate == "satisfaction_rate_scale_mean" or (rate == "satisfaction_rate"
                                                  and basis.scale_mean):
        text += "；为近似值：样本量取平均每题有效回答数"
    return text


def _precision_texts(t, figures) -> dict:
    n, need = _num(figures["n"]), figures["sample_size_needed"]
    rate = from_pair(figures["exact"]["satisfaction_rate"])
    observed = (f"按观测满意率 {percent(rate)} 估算需 "
                f"{need['observed']} 份" if need["observed"] is not None else "观测满意率无法计算")
    if figures["satisfaction_rate"] in (0.0, 1.0):
        observed += "（观测值为 0 或 100% 时改用置信区间内侧的界限估算）"
    return {
        "margin_of_error": (f"误差范围 = 1.96 × √(p(1−p)/n)（95% 置信水平，正态近似），"
                            f"p 取观测满意率 {percent(rate)}，"
                            f"n = {n}{_fpc_phrase(t)}"),
        "margin_of_error_p50": f"按最保守的 p = 50% 计算的误差范围，n = {n}{_fpc_phrase(t)}",
        "sample_size_needed": (f"误差不超过 ±5 个百分点（95% 置信水平）所需的有效问卷数："
                               f"按 p = 50% 需 {need['p50']} 份；{observed}{_fpc_phrase(t)}"),
    }


def definitions(t, basis, figures: dict) -> dict:
    """One sentence per figure, with the numbers and settings actually used."""
    texts = {**_count_texts(t), **_ratio_texts(t, figures), **_satisfaction_texts(t, basis, figures),
             **_precision_texts(t, figures)}
    for key in figures:
        if key.endswith("_ci95"):
            texts[key] = _ci_text(key, figures, basis)
    return {key: texts[key] for key in figures if key not in _NOT_FIGURES}


def _absent_reason(key: str, t, basis, figures: dict) -> str:
    if key.startswith(("issued", "return_rate", "effective_return_rate")):
        returned = figures["channels"]["returned"]
        if t.issued is None:
            return "未登记发放份数"
        if t.issued and returned > t.issued:
            return f"回收份数（{returned}）超过登记的发放份数（{t.issued}），请核对发放登记"
        return "发放份数为 0，无法计算"
    if key.startswith("valid_rate"):
        return "尚无回收问卷，无法计算"
    if key == "population":
        if t.population is not None:
            return f"登记的总体人数（{t.population}）少于有效问卷数（{t.valid}），已按无限总体计算"
        return "未登记总体人数，按无限总体计算"
    if key == "satisfied" and basis.scale_mean:
        return "按各题满意率平均口径，不对应单一满意人数"
    if basis.question is None:
        return "问卷中没有满意度量表题"
    if key == "satisfaction_index" and any(q.answered for q in _basis_questions(basis)):
        return "选项未设置分值，无法计算指数"
    return NO_ANSWERS


def absent(t, basis, figures: dict) -> dict:
    """Why each missing figure (None) is missing, so a blank is never left unexplained."""
    missing = [key for key, value in figures.items()
               if value is None and key not in _NOT_FIGURES]
    if figures["sample_size_needed"]["observed"] is None:
        missing.append("sample_size_needed.observed")
    return {key: _absent_reason(key, t, basis, figures) for key in missing}


def precision_warning_text(figures: dict, spread: float) -> str:
    low, high = figures["satisfaction_rate_ci95"]
    need = figures["sample_size_needed"]["observed"]
    size = "" if isinstance(figures["n"], int) else "（平均每题）"
    return (f"样本量{size} {figures['n']} 份，满意率的误差范围约 ±{_points(spread)} 个百分点，"
            f"无法区分 {percent(low, 1)} 与 {percent(high, 1)}；"
            f"达到 ±5% 精度约需 {need} 份有效问卷。")
