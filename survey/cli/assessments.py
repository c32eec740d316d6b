"""`survey assessments` (list with totals and grades) and `survey report` (XLSX or text)."""
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..core.assessment.text import report_text
from ..io.report_workbook import workbook_bytes
from ..store import assessments as store
from ..store.assessment_view import build_view
from ..web.db import get_db
from .base import echo_json


def _view(ref: str):
    assessment = store.get_assessment(get_db(), int(ref)) if ref.strip().isdigit() else None
    if assessment is None:
        raise click.ClickException(f"找不到自评：{ref}（请用 `survey assessments` 查看编号）")
    return build_view(get_db(), assessment)


@click.command("assessments")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def assessments_command(as_json):
    """列出全部绩效自评：编号、部门、年度、总分、评价等级。"""
    rows = []
    for assessment in store.list_assessments(get_db()):
        view = build_view(get_db(), assessment)
        rows.append({"id": assessment["id"], "department": assessment["department_name"],
                     "year": assessment["year"], "title": assessment["title"],
                     "status": assessment["status"], "total": float(view.total), "grade": view.grade,
                     "findings": len(view.findings), "unexplained": len(view.unexplained)})
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']}\t{row['year']}\t{row['department']}\t{row['title']}\t"
                   f"{row['total']:.2f}\t{row['grade']}\t{store.STATUSES[row['status']]}")


@click.command("report")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path),
              help="写出 Excel：附件1 自评表、表3-1、表3-2")
@click.option("--text", "as_text", is_flag=True, help="输出报告文字（综合评价结论、各指标段落）")
@with_appcontext
def report_command(assessment_ref, xlsx, as_text):
    """导出一份绩效自评：--xlsx FILE 写出附件1 等表格，--text 输出报告段落。"""
    if not xlsx and not as_text:
        raise click.UsageError("请指定 --xlsx FILE 或 --text")
    view = _view(assessment_ref)
    if xlsx:
        xlsx.write_bytes(workbook_bytes(view))
        click.echo(f"已写出 {xlsx}：总分 {view.total}，评价等级 {view.grade}", err=as_text)
    if as_text:
        click.echo(report_text(view), nl=False)


@click.command("assessment-evidence")
@click.argument("assessment_ref", metavar="ASSESSMENT")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="材料包 ZIP 文件")
@with_appcontext
def assessment_evidence_command(assessment_ref, output):
    """生成一份绩效自评的佐证材料包（ZIP，含清单与 SHA-256），可用 survey verify 核验。"""
    from ..io.assessment_package import build_assessment_package
    view = _view(assessment_ref)
    manifest = build_assessment_package(get_db(), view.assessment, output)
    click.echo(f"已写出 {output}：{len(manifest['files'])} 个文件，总分 {view.total}，"
               f"评价等级 {view.grade}")


COMMANDS = [assessments_command, report_command, assessment_evidence_command]
