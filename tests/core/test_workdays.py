"""The working-day calendar: weekends, public holidays, adjusted working weekends, overrides."""
import ast
import datetime as dt
import json
from importlib import resources

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.core.workdays import (
    Period,
    WorkdayCalendar,
    WorkdayDataError,
    WorkdayOverride,
    add_working_days,
    calendar_from_data,
    data_from_package,
    national_calendar,
    uncovered_years,
    working_days_between,
    year_arrangement,
)

D = dt.date.fromisoformat
CAL = national_calendar()


@pytest.mark.parametrize("start, count, due, why", [
    ("2024-03-08", 1, "2024-03-11", "Friday + 1 skips the weekend"),
    ("2024-03-08", 5, "2024-03-15", "Friday + 5 is the next Friday"),
    ("2024-03-09", 1, "2024-03-11", "a case opened on a Saturday starts counting on Monday"),
    ("2024-09-30", 5, "2024-10-12", "国庆 1-7 Oct off; Saturday 12 Oct is an adjusted working day"),
    ("2024-09-30", 1, "2024-10-08", "the whole 国庆 holiday is skipped"),
    ("2024-09-27", 1, "2024-09-29", "Sunday 29 Sep 2024 is worked (调休上班)"),
    ("2024-09-27", 2, "2024-09-30", "then Monday"),
    ("2025-09-30", 5, "2025-10-14", "国庆+中秋 2025: 1-8 Oct off, Saturday 11 Oct worked"),
    ("2025-01-24", 1, "2025-01-26", "Sunday 26 Jan 2025 worked before 春节"),
    ("2024-12-31", 1, "2025-01-02", "元旦"),
])
def test_due_dates(start, count, due, why):
    assert add_working_days(CAL, D(start), count) == D(due), why


def test_plain_weekday_calendar_ignores_holidays():
    assert add_working_days(WorkdayCalendar(), D("2024-09-30"), 1) == D("2024-10-01")


@pytest.mark.parametrize("day, expected", [
    ("2024-10-01", False), ("2024-10-07", False), ("2024-10-12", True), ("2024-10-13", False),
    ("2024-10-08", True), ("2024-09-29", True), ("2024-09-28", False),
])
def test_is_workday(day, expected):
    assert CAL.is_workday(D(day)) is expected


@pytest.mark.parametrize("count", [0, -1, 61, 2.0, True, "5"])
def test_bad_counts_are_refused(count):
    with pytest.raises(WorkdayDataError, match="办理时限"):
        add_working_days(CAL, D("2024-03-08"), count)


days = st.dates(min_value=dt.date(2004, 1, 1), max_value=dt.date(2026, 11, 30))


@given(days, st.integers(1, 60))
def test_due_date_is_a_working_day_exactly_count_working_days_later(start, count):
    due = add_working_days(CAL, start, count)
    assert due > start
    assert CAL.is_workday(due)
    assert working_days_between(CAL, start, due) == count
    assert working_days_between(CAL, start, due - dt.timedelta(days=1)) == count - 1


@given(days, st.integers(1, 59))
def test_more_working_days_never_earlier(start, count):
    assert add_working_days(CAL, start, count) < add_working_days(CAL, start, count + 1)


def test_department_overrides_take_precedence():
    start = D("2024-03-08")  # Friday
    closed_monday = CAL.with_overrides([WorkdayOverride(D("2024-03-11"), False, "停电闭厅")])
    assert add_working_days(closed_monday, start, 1) == D("2024-03-12")
    open_saturday = CAL.with_overrides([WorkdayOverride(D("2024-03-09"), True)])
    assert add_working_days(open_saturday, start, 1) == D("2024-03-09")
    reopened = CAL.with_overrides([WorkdayOverride(D("2024-10-08"), False)])
    assert reopened.describe(D("2024-10-08")) == "本部门安排休息（放假）"
    assert CAL.is_workday(D("2024-03-11"))  # the national calendar is unchanged


def test_describe():
    assert CAL.describe(D("2024-10-12")) == "国庆节调休上班（调休上班）"
    assert CAL.describe(D("2024-10-03")) == "国庆节（放假）"
    assert CAL.describe(D("2024-03-09")) == "周末"


def test_packaged_data_matches_chinese_calendar_for_every_year_it_covers():
    raw = json.loads(resources.files("survey.data").joinpath("workdays-cn.json")
                     .read_text(encoding="utf-8"))
    fresh = data_from_package(chinese_calendar.holidays, chinese_calendar.workdays)["years"]
    for year, entry in fresh.items():
        assert raw["years"][year] == entry, year
    assert {d.year for d in chinese_calendar.holidays} <= CAL.years


def test_uncovered_years_are_reported():
    last = max(CAL.years)
    assert uncovered_years(CAL, D(f"{last}-12-28"), D(f"{last + 1}-01-05")) == [last + 1]
    assert uncovered_years(CAL, D(f"{last}-03-01"), D(f"{last}-03-08")) == []


def test_year_arrangement_groups_consecutive_days():
    holidays, worked = year_arrangement(CAL, 2024)
    assert Period("国庆节", D("2024-10-01"), D("2024-10-07")) in holidays
    assert Period("国庆节调休上班", D("2024-10-12"), D("2024-10-12")) in worked
    assert all(p.first.year == 2024 for p in holidays + worked)


@pytest.mark.parametrize("data, message", [
    ([], "years"),
    ({"years": {"24": {}}}, "年份格式错误"),
    ({"years": {"2024": {"holidays": {"2024-13-01": "x"}}}}, "日期格式错误"),
    ({"years": {"2024": {"holidays": {"2025-01-01": "元旦"}}}}, "不属于 2024 年"),
    ({"years": {"2024": {"holidays": {"2024-01-01": ""}}}}, "缺少节日名称"),
    ({"years": {"2024": {"holidays": ["2024-01-01"]}}}, "对照表"),
    ({"years": {"2024": {"holidays": {"2024-10-12": "国庆节"},
                         "workdays": {"2024-10-12": "调休"}}}}, "同时被列为放假和上班"),
])
def test_malformed_data_is_refused_in_chinese(data, message):
    with pytest.raises(WorkdayDataError, match=message):
        calendar_from_data(data)


def test_added_year_is_used():
    data = {"years": {"2030": {"holidays": {"2030-10-01": "国庆节"},
                               "workdays": {"2030-09-29": "国庆节调休上班"}}}}
    calendar = calendar_from_data(data)
    assert calendar.years == {2030}
    assert add_working_days(calendar, D("2030-09-27"), 1) == D("2030-09-29")


@pytest.mark.parametrize("module", ["workdays", "cases"])
def test_core_stays_pure(module):
    source = resources.files("survey.core").joinpath(f"{module}.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & {"flask", "sqlite_utils", "sqlite3", "chinese_calendar", "survey"}


def test_due_date_beyond_the_calendars_last_year_is_provisional():
    from survey.core.workdays import national_calendar, provisional_due
    calendar = national_calendar()
    last = max(calendar.years)
    opened = dt.date(last, 12, 31)
    due = add_working_days(calendar, opened, 1)
    assert due == dt.date(last + 1, 1, 1)  # New Year's Day, counted as a working day: weekends only
    reason = provisional_due(calendar, opened, due)
    assert reason and f"{last + 1} 年" in reason and "只按周末计算" in reason
    assert provisional_due(calendar, dt.date(last, 3, 1), dt.date(last, 3, 8)) is None


def test_national_calendar_is_read_again_when_its_file_changes():
    """`survey workdays --refresh` runs in another process: a running server must see it."""
    import os
    from importlib import resources
    path = str(resources.files("survey.data").joinpath("workdays-cn.json"))
    before = os.stat(path)
    first = national_calendar()
    assert national_calendar() is first  # read once while the file stays as it is
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    try:
        assert national_calendar() is not first
    finally:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        national_calendar.cache_clear()
