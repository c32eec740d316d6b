"""The assessment as an XLSX workbook: 附件1 部门整体绩效自评表 (the budget block, the 年度履职目标
block and the indicator table, merged cells as in the original), 表3-1 得分情况 and 表3-2 各项指标
得分. Every number is the view's, written as a number (two places, ROUND_HALF_UP already)."""
import io
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..core.assessment.budget import MONEY_PLACES
from ..core.assessment.values import quantize
from ..core.exact import linked_value
from ..core.labels import percent
from .tabular import neutralise

ANNEX_HEADERS = ("一级指标", "分值", "二级指标", "三级指标", "指标值", "指标说明", "实际完成值", "分值",
                 "得分", "未完成原因分析及改进措施")
ANNEX_WIDTHS = (12, 7, 14, 18, 10, 46, 12, 7, 8, 26)
TABLE_3_2_HEADERS = ("一级指标", "二级指标", "三级指标", "指标值", "实际完成值", "分值", "得分")
FONT = "宋体"
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="EEF1F5")
SCORE_FORMAT, MONEY_FORMAT, RATE_FORMAT = "0.00", "0.00", "0.00%"


class Sheet:
    """A worksheet written cell by cell and merged range by merged range, all bordered."""

    def __init__(self, ws, widths):
        self.ws = ws
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width

    def put(self, row, col, value, *, to_row=None, to_col=None, head=False, fmt=None, left=False):
        to_row, to_col = to_row or row, to_col or col
        if (to_row, to_col) != (row, col):
            self.ws.merge_cells(start_row=row, start_column=col, end_row=to_row, end_column=to_col)
        for r in range(row, to_row + 1):
            for c in range(col, to_col + 1):
                self.ws.cell(r, c).border = _BORDER
        cell = self.ws.cell(row, col, _cell_value(value))
        cell.font = Font(name=FONT, size=10, bold=head)
        cell.alignment = Alignment(wrap_text=True, vertical="center",
                                   horizontal="left" if left else "center")
        if head:
            cell.fill = _HEAD_FILL
        if fmt:
            cell.number_format = fmt
        return cell

    def title(self, row, text, last_col):
        cell = self.put(row, 1, text, to_col=last_col)
        cell.font = Font(name=FONT, size=14, bold=True)
        self.ws.row_dimensions[row].height = 28

    def a4(self, landscape=True):
        setup = self.ws.page_setup
        setup.paperSize = self.ws.PAPERSIZE_A4
        setup.orientation = "landscape" if landscape else "portrait"
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        setup.fitToWidth, setup.fitToHeight = 1, 0


def _cell_value(value):
    """Numbers as numbers; text through the one neutralising rule (survey.tabular): an
    indicator named "=HYPERLINK(...)" is shown, never run."""
    if isinstance(value, Decimal):
        return float(value)
    return neutralise(value)


def _score(value):
    return None if value is None else quantize(value)


def _weight(row) -> Decimal:
    return Decimal(row.row["weight"] or 0)


def shown_actual(row) -> str:
    """The actual as printed: as typed, else the linked figure's value."""
    if row.row["actual"]:
        return row.row["actual"]
    if row.link and row.link.get("value") is not None:
        return percent(linked_value(row.link), trim=True)
    return ""


def target_shown(row) -> str:
    sign = {">=": "≥", "<=": "≤"}.get(row.row["comparison"], "")
    return f"{sign}{row.row['target']}" if row.row["target"] else ""


def _money(value):
    return None if value is None else value.quantize(MONEY_PLACES)


def budget_block(sheet: Sheet, view, top: int) -> int:
    lines = view.budget.lines or ()
    last = top + 1 + max(len(lines), 1)
    sheet.put(top, 1, "预算执行情况", to_row=last, head=True)
    sheet.put(top, 2, "", to_col=3, head=True)
    for col, label in zip(range(4, 9), ("年初数", "全年数", "全年执行数", "分值", "预算执行率"), strict=True):
        sheet.put(top, col, label, head=True)
    sheet.put(top, 9, "得分", to_col=10, head=True)
    budget, row = view.budget, view.budget_row
    sheet.put(top + 1, 2, "部门预算总额（万元）", to_col=3)
    for col, value in zip((4, 5, 6), (budget.initial, budget.full_year, budget.executed), strict=True):
        sheet.put(top + 1, col, _money(value), fmt=MONEY_FORMAT)
    sheet.put(top + 1, 7, _weight(row) if row else None)
    sheet.put(top + 1, 8, budget.execution_rate, fmt=RATE_FORMAT)
    sheet.put(top + 1, 9, _score(row.score) if row else None, to_col=10, fmt=SCORE_FORMAT)
    sheet.put(top + 2, 2, "资金来源", to_row=last)
    for i, line in enumerate(lines or [None]):
        r = top + 2 + i
        sheet.put(r, 3, line.source if line else "")
        for col, field in zip((4, 5, 6), ("initial", "full_year", "executed"), strict=True):
            sheet.put(r, col, _money(getattr(line, field)) if line else None, fmt=MONEY_FORMAT)
        sheet.put(r, 7, None)
        sheet.put(r, 8, line.execution_rate if line else None, fmt=RATE_FORMAT)
        sheet.put(r, 9, None, to_col=10)
    return last + 1


def goals_block(sheet: Sheet, view, top: int, kind: str) -> int:
    items = view.assessment["duty_goals"].get(kind) or [{"name": "", "content": "", "result": ""}]
    label, name, result = (("年度履职目标", "目标名称", "目标完成情况") if kind == "goals"
                           else ("年度主要任务", "任务名称", "任务完成情况"))
    heads = 2 if kind == "goals" else 1
    last = top + heads + len(items) - 1
    sheet.put(top, 1, label, to_row=last, head=True)
    if kind == "goals":
        sheet.put(top, 2, "预期目标", to_col=6, head=True)
        sheet.put(top, 7, "实际完成情况", to_col=10, head=True)
    r = top + heads - 1
    sheet.put(r, 2, name, head=True)
    sheet.put(r, 3, "主要内容", to_col=6, head=True)
    sheet.put(r, 7, result, to_col=10, head=True)
    for i, item in enumerate(items, start=1):
        sheet.put(r + i, 2, item.get("name", ""))
        sheet.put(r + i, 3, item.get("content", ""), to_col=6, left=True)
        sheet.put(r + i, 7, item.get("result", ""), to_col=10, left=True)
    return last + 1


@dataclass
class AnnexRow:
    """One row of the annex / 表3-2: a scored indicator, with its level-1 and level-2 cells set
    on the first row of their group only (with the number of rows they span)."""

    leaf: object
    named: bool
    level1: object = None
    span1: int = 0
    level2: object = None
    span2: int = 0


def annex_rows(view) -> list[AnnexRow]:
    rows = []
    for level1 in view.children(None):
        group = []
        for level2 in view.children(level1.id) or [level1]:
            leaves = view.children(level2.id) if level2 is not level1 else []
            part = [AnnexRow(leaf, True) for leaf in leaves] or [AnnexRow(level2, False)]
            if level2 is not level1:
                part[0].level2, part[0].span2 = level2, len(part)
            group += part
        group[0].level1, group[0].span1 = level1, len(group)
        rows += group
    return rows


def indicator_table(sheet: Sheet, view, top: int) -> int:
    for col, label in enumerate(ANNEX_HEADERS, start=1):
        sheet.put(top, col, label, head=True)
    r = top + 1
    for item in annex_rows(view):
        if item.level1:
            sheet.put(r, 1, item.level1.row["name"], to_row=r + item.span1 - 1)
            sheet.put(r, 2, _weight(item.level1), to_row=r + item.span1 - 1)
        if item.level2:
            sheet.put(r, 3, item.level2.row["name"], to_row=r + item.span2 - 1)
        elif item.level1 and not item.span2 and item.leaf is item.level1:
            sheet.put(r, 3, "")
        _leaf_row(sheet, item.leaf, r, named=item.named)
        r += 1
    sheet.put(r, 1, "合计", to_col=7, head=True)
    sheet.put(r, 8, sum((level.weight for level in view.levels), Decimal(0)))
    sheet.put(r, 9, view.total, fmt=SCORE_FORMAT)
    sheet.put(r, 10, f"评价等级：{view.grade}")
    return r + 1


def _leaf_row(sheet: Sheet, row, r: int, named: bool) -> None:
    sheet.put(r, 4, row.row["name"] if named else "")
    sheet.put(r, 5, target_shown(row))
    sheet.put(r, 6, row.row["description"], left=True)
    sheet.put(r, 7, shown_actual(row))
    sheet.put(r, 8, _weight(row))
    sheet.put(r, 9, _score(row.score), fmt=SCORE_FORMAT)
    sheet.put(r, 10, row.row["notes"], left=True)


def annex_note(view) -> str:
    a = view.assessment
    bands = "、".join(f"{b['grade']} ≥{Decimal(str(b['at_least'])).normalize():f}" for b in a["grade_bands"])
    state = (f"已定稿（{a['finalised_at'][:16].replace('T', ' ')} UTC，{a['finalised_by_name'] or ''}）"
             if a["status"] == "final" else "草稿，未定稿")
    return (f"注：1.满分 100 分，得分由系统按各指标写明的评分规则计算，四舍五入保留两位小数；"
            f"评价等级：{bands}。2.未完成原因分析及改进措施：说明偏离目标、不能完成目标的原因及改进措施。"
            f"3.本表状态：{state}。")


def annex_sheet(wb: Workbook, view) -> None:
    sheet = Sheet(wb.active, ANNEX_WIDTHS)
    wb.active.title = "附件1 自评表"
    a = view.assessment
    sheet.title(1, f"附件1：{a['year']} 年度部门整体绩效自评表", 10)
    sheet.put(2, 1, "部门（单位）名称", to_col=3, head=True)
    sheet.put(2, 4, a["department_name"], to_col=10)
    r = budget_block(sheet, view, 3)
    r = goals_block(sheet, view, r, "goals")
    r = goals_block(sheet, view, r, "tasks")
    r = indicator_table(sheet, view, r)
    sheet.put(r, 1, annex_note(view), to_col=10, left=True)
    sheet.ws.row_dimensions[r].height = 42
    sheet.a4()


def table_3_1(wb: Workbook, view) -> None:
    sheet = Sheet(wb.create_sheet("表3-1 得分情况"), (12,) + (14,) * (len(view.levels) + 1))
    last = len(view.levels) + 2
    sheet.title(1, "表 3-1 部门整体得分情况", last)
    weight = sum((level.weight for level in view.levels), Decimal(0))
    rows = (("一级指标", [level.name for level in view.levels], "合计", None),
            ("权重", [level.weight for level in view.levels], weight, None),
            ("得分率", [_share(level.score, level.weight) for level in view.levels],
             _share(view.total, weight), RATE_FORMAT),
            ("得分", [level.score for level in view.levels], view.total, SCORE_FORMAT))
    for r, (label, values, total, fmt) in enumerate(rows, start=2):
        sheet.put(r, 1, label, head=True)
        for c, value in enumerate(values, start=2):
            sheet.put(r, c, value, head=r == 2, fmt=fmt)
        sheet.put(r, last, total, head=r == 2, fmt=fmt)
    sheet.put(6, 1, "评价等级", head=True)
    sheet.put(6, 2, view.grade, to_col=last)
    sheet.a4(landscape=False)


def _share(score: Decimal, weight: Decimal):
    return None if not weight else (score / weight).quantize(Decimal("0.0001"))


def table_3_2(wb: Workbook, view) -> None:
    sheet = Sheet(wb.create_sheet("表3-2 各项指标得分"), (12, 16, 22, 10, 12, 8, 8))
    sheet.title(1, "表 3-2 各项指标得分情况表", 7)
    for col, label in enumerate(TABLE_3_2_HEADERS, start=1):
        sheet.put(2, col, label, head=True)
    r = 3
    for item in annex_rows(view):
        if item.level1:
            sheet.put(r, 1, item.level1.row["name"], to_row=r + item.span1 - 1)
        if item.level2:
            sheet.put(r, 2, item.level2.row["name"], to_row=r + item.span2 - 1)
        elif item.leaf is item.level1:
            sheet.put(r, 2, "")
        row = item.leaf
        for col, value in zip(range(3, 8), (row.row["name"] if item.named else "", target_shown(row),
                                            shown_actual(row), _weight(row), _score(row.score)), strict=True):
            sheet.put(r, col, value, fmt=SCORE_FORMAT if col == 7 else None)
        r += 1
    sheet.put(r, 1, "合计", to_col=5, head=True)
    sheet.put(r, 6, sum((level.weight for level in view.levels), Decimal(0)))
    sheet.put(r, 7, view.total, fmt=SCORE_FORMAT)
    sheet.a4(landscape=False)


def workbook_bytes(view) -> bytes:
    wb = Workbook()
    annex_sheet(wb, view)
    table_3_1(wb, view)
    table_3_2(wb, view)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
