"""The department's follow-up cases as one CSV or XLSX table (the list page's filter), each
due date marked provisional (暂定) with the reason when the calendar does not reach it yet."""
from ..core.cases import STATUSES
from ..core.labels import channel_name, china_time
from .tables import Table

HEADER = ["案件编号", "问卷", "渠道", "状态", "立案时间（北京时间）", "到期日", "到期日暂定",
          "到期日说明", "是否逾期", "承办人", "办结时间（北京时间）"]
WIDTHS = [10, 30, 12, 14, 20, 12, 10, 60, 10, 12, 20]


def case_table(cases: list[dict]) -> Table:
    return Table("差评案件", HEADER, (_row(c) for c in cases), total=len(cases), widths=WIDTHS)


def _row(case: dict) -> list:
    provisional = case["due_provisional"]
    return [case["id"], case["survey_title"], channel_name(case["channel"]),
            STATUSES[case["status"]], china_time(case["opened_at"]), case["due_day"],
            "暂定" if provisional else "否", provisional, "已逾期" if case["overdue"] else "否",
            case["assignee"], china_time(case["closed_at"], empty=None)]
