"""The summary export: every figure with its value and definition (how it was computed, or
why it is missing), then per-question counts and shares, then responses per day."""
from collections.abc import Iterator

from ..core.figures import exact_value
from ..core.labels import channel_name, percent
from .tables import Table, cell_number

KIND_TEXT = {"scale": "量表题", "single": "单选题", "multiple": "多选题", "text": "填空题"}
FIGURE_LABELS = {
    "issued": "发放份数", "form_views": "问卷页面打开次数", "returned": "回收份数",
    "valid": "有效份数", "invalid": "无效份数", "return_rate": "回收率",
    "valid_rate": "问卷有效率", "effective_return_rate": "有效回收率", "satisfied": "满意人数",
    "n": "满意率样本量", "satisfaction_rate": "满意率",
    "satisfaction_rate_question": "总体满意度题满意率",
    "satisfaction_rate_scale_mean": "各量表题平均满意率", "satisfaction_index": "满意度指数",
    "population": "总体人数", "margin_of_error": "误差范围",
    "margin_of_error_p50": "误差范围（按 p = 50%）",
}
_RATES = {"return_rate", "valid_rate", "effective_return_rate", "satisfaction_rate",
          "satisfaction_rate_question", "satisfaction_rate_scale_mean", "margin_of_error",
          "margin_of_error_p50"}


def _figure_rows(figures: dict) -> Iterator[list]:
    definitions, absent = figures["definitions"], figures["absent"]
    for key, label in FIGURE_LABELS.items():
        value = figures.get(key)
        explained = definitions.get(key, "") if value is not None else absent.get(key, "")
        yield [label, cell_number(value), _shown(key, value, figures), explained]
        ci = figures.get(f"{key}_ci95")
        if key in _RATES and ci:
            yield [f"{label} 95% 置信区间", None,
                   f"{percent(ci[0])} – {percent(ci[1])}",
                   definitions.get(f"{key}_ci95", "")]
    yield from _channel_rows(figures)
    need = figures["sample_size_needed"]
    yield ["±5% 精度所需有效问卷数", need["p50"], f"{need['p50']}（按 p = 50%）",
           definitions.get("sample_size_needed", "")]


def _channel_rows(figures: dict) -> Iterator[list]:
    """回收率 per channel where its issued count is known; answers from channels with no
    issued count apart (they are not in the overall 回收率)."""
    coverage = figures.get("channels")
    if not coverage or not coverage["by_channel"]:
        return
    for row in coverage["rows"]:
        name = channel_name(row["channel"])
        if row["issued"] is None:
            continue
        yield [f"回收率（{name}）", row["return_rate"], row["shown"]["return_rate"],
               f"回收 / 发放 = {row['returned']} / {row['issued']}"]
    if coverage["unissued_returned"]:
        names = "、".join(map(channel_name, coverage["unissued"]))
        yield ["未登记发放渠道的回收份数", coverage["unissued_returned"],
               str(coverage["unissued_returned"]),
               f"渠道：{names}；有效 {coverage['unissued_valid']} 份；未登记发放，不计入回收率"]


def _shown(key: str, value, figures: dict) -> str:
    if value is None:
        return "—"
    if key in figures.get("shown", {}):
        return figures["shown"][key]  # rounded once from the exact fraction
    return percent(value) if key in _RATES else str(cell_number(value))


def _question_rows(figures: dict) -> Iterator[list]:
    for q in figures["questions"]:
        head = [q["position"], q["text"], KIND_TEXT.get(q["kind"], q["kind"])]
        for o in q["options"]:
            yield head + [o["label"], cell_number(o["value"]), "是" if o["satisfied"] else "",
                          o["count"], exact_value(o, "share")]
        if q.get("applicable") is not None:  # a conditional question: its base, in words
            yield head + [f"（适用人数）{q['condition']}", None, "", q["applicable"], None]
        yield head + ["（本题有效回答）", None, "", q["answered"], None]
        if q["kind"] == "scale":
            yield head + ["（满意率）", None, "", q["satisfied"], exact_value(q, "satisfaction_rate")]
            yield head + ["（满意度指数）", cell_number(q["satisfaction_index"]), "", None, None]


def summary_tables(figures: dict) -> list[Table]:
    """The summary as three tables: figures, per-question counts, responses per day."""
    return [
        Table("统计指标", ["指标", "数值", "显示", "计算口径与说明"], _figure_rows(figures),
              widths=[26, 12, 24, 90]),
        Table("各题统计", ["题号", "题目", "题型", "选项", "分值", "计为满意", "人数", "占比"],
              _question_rows(figures), percent_columns=frozenset({7}),
              widths=[6, 40, 8, 18, 8, 8, 10, 10]),
        Table("每日回收", ["日期", "回收", "有效"],
              ([d["date"], d["returned"], d["valid"]] for d in figures["per_day"]),
              widths=[14, 10, 10]),
    ]
