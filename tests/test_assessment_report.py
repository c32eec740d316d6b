"""The XLSX annex (附件1, 表3-1, 表3-2) re-opened with openpyxl, and the report's paragraphs:
every number in them must be the assessment's own."""
import io
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.core.assessment.text import conclusion, points, report_text, survey_sentence
from survey.core.labels import percent
from survey.io.report_workbook import ANNEX_HEADERS, TABLE_3_2_HEADERS, annex_rows, workbook_bytes
from survey.store import assessment_indicators as tree
from survey.store import assessments as store
from survey.store.assessment_seed import create_seed_assessment
from survey.store.assessment_view import build_view

from .assessment_fixtures import answer, department, issue, make_survey, new_assessment, row_named, store_db

DEPARTMENT = "信阳市平桥区人力资源和社会保障局"


@pytest.fixture
def db(tmp_path):
    return store_db(tmp_path)


@pytest.fixture
def seed(db):
    return build_view(db, store.get_assessment(db, create_seed_assessment(db, department(db, DEPARTMENT))))


@pytest.fixture
def book(seed):
    return openpyxl.load_workbook(io.BytesIO(workbook_bytes(seed)))


def merged(sheet) -> set[str]:
    return {str(r) for r in sheet.merged_cells.ranges}


def find_row(sheet, column: int, value) -> int:
    return next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, column).value == value)


def test_annex_heading_and_department(book):
    sheet = book["附件1 自评表"]
    assert sheet["A1"].value == "附件1：2022 年度部门整体绩效自评表"
    assert (sheet["A2"].value, sheet["D2"].value) == ("部门（单位）名称", DEPARTMENT)
    assert {"A1:J1", "A2:C2", "D2:J2"} <= merged(sheet)
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 == "9"  # A4
    assert sheet.page_setup.orientation == "landscape"


def test_annex_budget_block(book, seed):
    sheet = book["附件1 自评表"]
    assert [sheet.cell(3, c).value for c in range(1, 10)] == [
        "预算执行情况", None, None, "年初数", "全年数", "全年执行数", "分值", "预算执行率", "得分"]
    assert [sheet.cell(4, c).value for c in range(2, 10)] == [
        "部门预算总额（万元）", None, 1633.2, 1633.2, 1633.2, 10, 1, 10]
    assert (sheet["B5"].value, sheet["C5"].value, sheet["C6"].value) == ("资金来源", "财政性资金", "其他资金")
    assert {"A3:A6", "B3:C3", "B4:C4", "B5:B6", "I4:J4"} <= merged(sheet)
    assert sheet["H4"].number_format == "0.00%" and sheet["I4"].number_format == "0.00"


def test_annex_goal_blocks(book, seed):
    sheet = book["附件1 自评表"]
    goals = find_row(sheet, 1, "年度履职目标")
    assert (sheet.cell(goals, 2).value, sheet.cell(goals, 7).value) == ("预期目标", "实际完成情况")
    assert sheet.cell(goals + 2, 2).value == "目标 1"
    assert sheet.cell(goals + 2, 7).value.startswith("组织 224 场招聘活动")
    assert f"A{goals}:A{goals + 6}" in merged(sheet)
    tasks = find_row(sheet, 1, "年度主要任务")
    assert sheet.cell(tasks + 5, 2).value == "任务 5" and f"C{tasks + 5}:F{tasks + 5}" in merged(sheet)


def test_annex_indicator_rows_carry_each_weight_and_score(book, seed):
    sheet = book["附件1 自评表"]
    header = find_row(sheet, 1, "一级指标")
    assert tuple(sheet.cell(header, c).value for c in range(1, 11)) == ANNEX_HEADERS
    items = annex_rows(seed)
    for offset, item in enumerate(items, start=1):
        r = header + offset
        leaf = item.leaf
        assert sheet.cell(r, 4).value == (leaf.row["name"] if item.named else None)
        assert Decimal(str(sheet.cell(r, 8).value)) == Decimal(leaf.row["weight"])
        assert Decimal(str(sheet.cell(r, 9).value)) == leaf.score
        if item.level1:
            assert sheet.cell(r, 1).value == item.level1.row["name"]
            assert sheet.cell(r, 2).value == int(item.level1.row["weight"])
            assert f"A{r}:A{r + item.span1 - 1}" in merged(sheet) or item.span1 == 1
        if item.level2 and item.span2 > 1:
            assert f"C{r}:C{r + item.span2 - 1}" in merged(sheet)
    total = header + len(items) + 1
    assert (sheet.cell(total, 1).value, sheet.cell(total, 8).value) == ("合计", 100)
    assert Decimal(str(sheet.cell(total, 9).value)) == seed.total == sum(i.leaf.score for i in items)
    assert sheet.cell(total, 10).value == f"评价等级：{seed.grade}"
    assert f"A{total}:G{total}" in merged(sheet)


def test_seed_annex_shows_the_reported_values(book):
    sheet = book["附件1 自评表"]
    satisfaction = find_row(sheet, 4, "群众满意度")
    assert [sheet.cell(satisfaction, c).value for c in (5, 7, 8, 9)] == ["≥90%", "98%", 15, 14]
    level = find_row(sheet, 1, "效益指标")
    assert f"A{level}:A{satisfaction}" in merged(sheet) and sheet.cell(level, 2).value == 35


def test_table_3_1_level_totals(book, seed):
    sheet = book["表3-1 得分情况"]
    names = [sheet.cell(2, c).value for c in range(2, 7)]
    assert names == ["预算执行情况", "投入管理指标", "产出指标", "效益指标", "合计"]
    assert [sheet.cell(3, c).value for c in range(2, 7)] == [10, 30, 25, 35, 100]
    assert [Decimal(str(sheet.cell(5, c).value)) for c in range(2, 6)] == [lv.score for lv in seed.levels]
    assert Decimal(str(sheet.cell(5, 6).value)) == seed.total == sum(lv.score for lv in seed.levels)
    assert sheet.cell(4, 5).value == pytest.approx(31 / 35, abs=1e-4)
    assert sheet.cell(6, 2).value == seed.grade and "B6:F6" in merged(sheet)


def test_table_3_2_rows(book, seed):
    sheet = book["表3-2 各项指标得分"]
    assert tuple(sheet.cell(2, c).value for c in range(1, 8)) == TABLE_3_2_HEADERS
    items = annex_rows(seed)
    for r, item in enumerate(items, start=3):
        assert sheet.cell(r, 3).value == (item.leaf.row["name"] if item.named else None)
        assert Decimal(str(sheet.cell(r, 7).value)) == item.leaf.score
    last = 3 + len(items)
    assert sheet.cell(last, 1).value == "合计" and Decimal(str(sheet.cell(last, 7).value)) == seed.total
    assert "A4:A22" in merged(sheet)  # 投入管理指标 spans its 19 indicators


def test_conclusion_states_total_grade_and_each_level(seed):
    text = conclusion(seed)
    assert f"整体自评得分为 {points(seed.total)} 分，评价等级为“{seed.grade}”" in text
    for level in seed.levels:
        assert f"{level.name}得分 {points(level.score)} 分" in text


def test_report_text_has_a_sentence_per_indicator(seed):
    text = report_text(seed)
    for r in seed.rows:
        if not r.row["child_ids"]:
            assert f"{r.row['name']}，" in text and f"得 {points(r.score)} 分。" in text
    assert "全年实际执行数为 1633.20 万元，预算执行率为 100%" in text


def test_survey_sentence_comes_from_the_survey(db):
    dept = department(db)
    assessment = new_assessment(db, dept)
    survey = make_survey(db, dept)
    issue(db, survey["id"], 100)
    answer(db, survey, 0, 96)
    answer(db, survey, 4, 4)
    row = row_named(db, assessment, "群众满意度")
    tree.update_indicator(db, assessment, row["id"], {
        "survey_id": survey["id"], "figure": "satisfaction_rate", "rule": {"type": "rate_times_weight"}}, None)
    view = build_view(db, store.get_assessment(db, assessment["id"]))
    linked = next(r for r in view.rows if r.id == row["id"])
    assert survey_sentence(linked).startswith(
        "群众满意度问卷共发放 100 份，回收问卷 100 份，其中有效问卷 100 份，问卷有效率 100%。"
        "据统计群众满意度为 96%")
    assert survey_sentence(linked).endswith("根据评分规则，该指标得 14.4 分。")
    assert "群众满意度问卷共发放 100 份" in report_text(view)


@pytest.mark.parametrize("value, shown", [(Decimal("14.40"), "14.4"), (Decimal("14"), "14"),
                                          (Decimal("0.855"), "0.86"), (Decimal("2.675"), "2.68")])
def test_points_round_half_up(value, shown):
    assert points(value) == shown


@pytest.mark.parametrize("rate, shown", [(0.96, "96%"), (0.958333, "95.83%"), (1, "100%"),
                                         (0.00125, "0.13%")])
def test_percent_as_written(rate, shown):
    assert percent(rate, trim=True) == shown


@given(st.decimals(min_value=0, max_value=100, places=4))
def test_points_reads_back_as_the_money_rounded_score(value):
    assert Decimal(points(value)) == value.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
