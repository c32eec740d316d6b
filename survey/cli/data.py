"""`survey` commands for data in and out: export, evidence, verify, import-paper."""
import os
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext

from ..core.errors import DomainError
from ..io import evidence, exports, paper_import
from ..io.evidence_verify import compare_with_database, verify_package
from ..store import StoreError
from ..store.surveys import questionnaire
from ..web.db import get_db
from .base import fail, find_survey


def _interactive() -> bool:
    return sys.stderr.isatty()


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file beside `path`: a failed export leaves no half file."""
    path = path.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


@click.command("export")
@click.argument("survey_ref", metavar="SURVEY")
@click.option("--format", "fmt", type=click.Choice(list(exports.EXPORT_FORMATS)), default="csv",
              show_default=True, help="csv/xlsx：原始答卷；summary-xlsx/summary-csv：统计汇总")
@click.option("--encoding", type=click.Choice(list(exports.ENCODINGS)), default="utf-8-sig",
              show_default=True, help="CSV 编码（Excel 打开乱码时用 gb18030）")
@click.option("--values", is_flag=True, help="原始答卷中增加各题选项分值列")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="输出文件")
@with_appcontext
def export_command(survey_ref, fmt, encoding, values, output):
    """导出原始答卷或统计汇总（CSV/Excel）；在终端中显示进度条。"""
    db = get_db()
    survey = find_survey(survey_ref)
    try:
        tables = exports.export_tables(db, survey, questionnaire(db, survey["id"]), fmt,
                                       values=values)
        total = tables[0].total if fmt in ("csv", "xlsx") else None
        if _interactive() and total:
            with click.progressbar(length=total, label="正在导出", file=sys.stderr) as bar:
                _atomic_write(output, lambda out: exports.write_export(
                    tables, fmt, out, encoding=encoding, progress=bar.update))
        else:
            _atomic_write(output, lambda out: exports.write_export(tables, fmt, out,
                                                                    encoding=encoding))
    except (DomainError, OSError) as error:
        fail(error)
    if _interactive():
        click.echo(f"已导出到 {output}", err=True)


@click.command("evidence")
@click.argument("survey_ref", metavar="SURVEY")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="输出的 ZIP 文件")
@with_appcontext
def evidence_command(survey_ref, output):
    """生成问卷的佐证材料包（ZIP，含清单和哈希链）。"""
    survey = find_survey(survey_ref)
    manifest = {}

    def build(out):
        manifest.update(evidence.build_package(get_db(), survey, out))
    try:
        _atomic_write(output, build)
    except (DomainError, OSError) as error:
        fail(error)
    state = manifest["database_state"]
    click.echo(f"已生成 {output}：{len(manifest['files'])} 个文件，{state['responses']} 份答卷，"
               f"数据库状态摘要 {state['digest'][:16]}…")
    for note in manifest["notes"]:
        click.echo(f"说明：{note}")


@click.command("verify")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--against-db", is_flag=True, help="同时与本实例的数据库核对（答卷未被删改）")
@click.pass_context
def verify_command(ctx, package, against_db):
    """核验佐证材料包：逐个核对文件摘要、重算哈希链；完整时退出码为 0。"""
    report = verify_package(package)
    if against_db and report.manifest is not None:
        app = ctx.ensure_object(ScriptInfo).load_app()
        with app.app_context():
            live = compare_with_database(get_db(), report.manifest)
        report.problems += live.problems
        report.passed += live.passed
    for line in report.passed:
        click.echo(f"通过：{line}")
    for problem in report.problems:
        click.echo(f"问题：{problem}", err=True)
    if not report.ok:
        click.echo(f"核验未通过：发现 {len(report.problems)} 处问题", err=True)
        ctx.exit(1)
    click.echo("核验通过：材料包完整，未被改动")


@click.command("import-paper")
@click.argument("survey_ref", metavar="SURVEY")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--channel", default="", help="渠道标签，例如“窗口 3 纸质问卷”")
@with_appcontext
def import_paper_command(survey_ref, file, channel):
    """导入纸质问卷（CSV 或 Excel）：整份文件检查无误才导入，同一文件不能导入两次。"""
    db = get_db()
    survey = find_survey(survey_ref)
    try:
        result = paper_import.import_file(
            db, survey, questionnaire(db, survey["id"]), file.name, file.read_bytes(),
            max_bytes=current_app.config["IMPORT_MAX_BYTES"], channel=channel)
    except paper_import.ImportValidationError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        fail(error)
    except (DomainError, StoreError) as error:
        fail(error)
    click.echo(f"已导入 {result.imported} 份纸质问卷，其中有效 {result.valid} 份")


COMMANDS = [export_command, evidence_command, verify_command, import_paper_command]
