"""Setting up: init, users, surveys, the demo, the production server, the summary."""
import errno
import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..core.errors import DomainError
from ..core.questionnaire import SURVEY_TEMPLATES, load_survey_template
from ..store import StoreError, accounts
from ..store import surveys as survey_store
from ..store import windows as window_store
from ..store.tallies import survey_figures
from ..web.db import get_db, restrict_files
from ..web.urls import public_url


def fail(error: Exception):
    raise click.ClickException(str(error))


def find_survey(ref: str) -> dict:
    survey = survey_store.resolve(get_db(), ref)
    if survey is None:
        raise click.ClickException(f"找不到问卷：{ref}")
    return survey


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.command("init")
@with_appcontext
def init_command():
    """创建实例目录、配置（含随机密钥）和数据库；可重复执行。"""
    restrict_files(current_app)
    click.echo(f"实例目录：{current_app.instance_path}")
    click.echo(f"数据库：{current_app.config['DATABASE']}")


@click.command("create-user")
@click.argument("username")
@click.option("--department", required=True, help="部门名称（不存在则创建）")
@click.option("--role", type=click.Choice(["admin", "staff"]), default="staff", show_default=True)
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码")
@with_appcontext
def create_user_command(username, department, role, password_stdin):
    """创建工作人员账号；密码从提示或标准输入读取。"""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
    db = get_db()
    try:
        with db.atomic():
            department_id = accounts.ensure_department(db, department)
            user_id = accounts.create_user(db, username, password, department_id, role)
    except StoreError as error:
        fail(error)
    click.echo(f"已创建用户 {username}（编号 {user_id}，{department}，{role}）")


@click.command("new-survey")
@click.option("--department", required=True, help="部门名称（不存在则创建）")
@click.option("--title", required=True, help="问卷标题")
@click.option("--template", type=click.Choice(sorted(SURVEY_TEMPLATES)), default="satisfaction-5",
              show_default=True)
@click.option("--open", "open_now", is_flag=True, help="创建后立即开放收集")
@with_appcontext
def new_survey_command(department, title, template, open_now):
    """按模板新建问卷，输出 JSON（id、token、url）。"""
    db = get_db()
    try:
        questionnaire = load_survey_template(template)
        with db.atomic():
            department_id = accounts.ensure_department(db, department)
            survey_id = survey_store.create_survey(db, department_id, questionnaire, title=title,
                                                   status="open" if open_now else "draft")
    except (StoreError, DomainError) as error:
        fail(error)
    survey = survey_store.get_survey(db, survey_id)
    echo_json({"id": survey_id, "token": survey["token"], "url": public_url(survey["token"]),
               "status": survey["status"]})


@click.command("summary")
@click.argument("survey_ref", metavar="SURVEY")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出全部统计数字")
@with_appcontext
def summary_command(survey_ref, as_json):
    """问卷统计：发放、回收、有效份数，满意率及其置信区间，各题各选项计数，各窗口和各工作人员的数字。"""
    survey = find_survey(survey_ref)
    figures = {**survey_figures(get_db(), survey),
               **window_store.transaction_figures(get_db(), survey)}
    if as_json:
        echo_json(figures)
        return
    click.echo(f"{figures['title']}：回收 {figures['returned']} 份，有效 {figures['valid']} 份，"
               f"满意率 {figures['shown']['satisfaction_rate']}")
    click.echo(figures["definitions"].get("satisfaction_rate", ""))
    for item in figures["by_window"]:
        issued = item["issued"] if item["issued"] is not None else "未登记"
        click.echo(f"{item['window']}：发放 {issued}，回收 {item['returned']}，有效 {item['valid']}，"
                   f"满意率 {item['shown']['satisfaction_rate']}")


# EADDRINUSE; WSAEADDRINUSE (10048) on Windows
ADDRESS_IN_USE = {errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE)}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=8, show_default=True, type=click.IntRange(1, 64),
              help="每个进程的工作线程数")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="服务进程数（仅 Linux 等类 Unix 系统；多核服务器可设为核数）")
@with_appcontext
def serve_command(host, port, workers, processes):
    """用生产级 WSGI 服务器（waitress）运行服务。"""
    from ..web.serve import check_port, serve
    app = current_app._get_current_object()
    if processes > 1 and sys.platform == "win32":
        raise click.ClickException("Windows 上只能单进程运行（不要使用 --processes）")
    try:
        check_port(host, port)  # before saying "started"
        click.echo(f"服务已启动：http://{host}:{port}/staff/  （{processes} 个进程 × {workers} 个线程，"
                   "按 Ctrl+C 停止）")
        # waitress: pure Python, runs the same on Linux and on a county office's Windows server.
        serve(app, host, port, workers, processes)
    except OSError as error:
        if error.errno not in ADDRESS_IN_USE:
            raise
        click.echo(f"端口 {port} 已被占用：请换一个端口（--port）或先停止占用它的程序。", err=True)
        sys.exit(1)


COMMANDS = [init_command, create_user_command, new_survey_command, summary_command,
            serve_command]
