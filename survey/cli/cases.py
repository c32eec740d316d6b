"""`survey` commands for follow-up cases: list a survey's cases, purge expired call-back
numbers, show or refresh the working-day calendar."""
import datetime as dt
import json
from importlib import resources
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..core.cases import STATUSES
from ..core.errors import DomainError
from ..core.workdays import DATA_FILE, calendar_from_data, data_from_package, national_calendar, year_arrangement
from ..store import case_reports
from ..store.cases import purge_expired_contacts
from ..store.workdays import recompute_due_dates
from ..web.db import get_db
from .base import echo_json, fail, find_survey


@click.command("cases")
@click.argument("survey_ref", metavar="SURVEY")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（编号、答卷、状态、到期日、是否逾期）")
@with_appcontext
def cases_command(survey_ref, as_json):
    """列出问卷的差评回访整改案件。"""
    survey = find_survey(survey_ref)
    rows = [{"id": c["id"], "response_id": c["response_id"], "status": c["status"],
             "due_date": c["due_day"], "overdue": c["overdue"], "channel": c["channel"],
             "due_date_provisional": c["due_provisional"] is not None,
             "due_date_note": c["due_provisional"]}
            for c in case_reports.survey_cases(get_db(), survey["id"])]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("该问卷没有案件。")
    for r in rows:
        flag = "（已逾期）" if r["overdue"] else ""
        flag += f"（{r['due_date_note']}）" if r["due_date_provisional"] else ""
        click.echo(f"#{r['id']}  答卷 {r['response_id']}  {STATUSES[r['status']]}  "
                   f"到期 {r['due_date']}{flag}")


@click.command("purge-contacts")
@with_appcontext
def purge_contacts_command():
    """删除超过保存期限的群众回访电话（个人信息保护）。"""
    count = purge_expired_contacts(get_db())
    click.echo(f"已删除 {count} 个到期的回访电话。")


def _data_path() -> Path:
    return Path(str(resources.files("survey.data").joinpath(DATA_FILE)))


def _refresh(path: Path) -> list[str]:
    """Replace the years chinesecalendar knows; keep years entered by hand that it lacks."""
    import chinese_calendar
    current = json.loads(path.read_text(encoding="utf-8"))
    fresh = data_from_package(chinese_calendar.holidays, chinese_calendar.workdays)
    current["years"] = dict(sorted({**current["years"], **fresh["years"]}.items()))
    current["source"] = (f"chinesecalendar {chinese_calendar.__version__}"
                         "（依据国务院办公厅关于部分节假日安排的通知）")
    calendar_from_data(current)  # refuse to write data that would not load
    path.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return sorted(fresh["years"])


@click.command("workdays")
@click.argument("year", type=int, required=False)
@click.option("--refresh", is_flag=True, help="从 chinesecalendar 包更新节假日数据文件")
@with_appcontext
def workdays_command(year, refresh):
    """显示某年的法定节假日和调休上班安排（到期日据此按工作日计算）。"""
    if refresh:
        try:
            years = _refresh(_data_path())
        except DomainError as error:
            fail(error)
        national_calendar.cache_clear()
        click.echo(f"已更新节假日数据：{years[0]}–{years[-1]} 年。")
        moved = recompute_due_dates(get_db(), f"国家节假日数据更新（{years[0]}–{years[-1]} 年）")
        click.echo(f"未办结案件中有 {moved} 件的到期日随之改变（已记入各案件的办理记录）。")
    calendar = national_calendar()
    year = year or dt.date.today().year
    if year not in calendar.years:
        fail(DomainError(f"{year} 年的节假日安排尚未录入（已录入 {min(calendar.years)}–"
                         f"{max(calendar.years)} 年），该年到期日只扣除周末。"))
    holidays, workdays = year_arrangement(calendar, year)
    for label, periods in (("放假", holidays), ("调休上班", workdays)):
        for p in periods:
            span = p.first.isoformat() + ("" if p.last == p.first else f" 至 {p.last.isoformat()}")
            click.echo(f"{label}  {p.name}  {span}")


COMMANDS = [cases_command, purge_contacts_command, workdays_command]
