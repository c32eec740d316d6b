"""`survey` commands for 一事一评: an invitation per transaction, a window's tablet."""
import click
from flask import current_app
from flask.cli import with_appcontext

from ..core.errors import DomainError
from ..core.transactions import checked_window, transaction_from
from ..store import windows as window_store
from ..web.db import get_db
from ..web.urls import invitation_url, kiosk_url, loopback_warning
from .base import echo_json, fail, find_survey


@click.command("invite")
@click.argument("survey_ref", metavar="SURVEY")
@click.option("--reference", required=True, help="办件编号（同一编号返回同一邀请）")
@click.option("--window", default="", help="办理窗口，如“窗口 3”")
@click.option("--staff", "staff_code", default="", help="经办工作人员工号")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def invite_command(survey_ref, reference, window, staff_code, as_json):
    """为一笔办件生成一次性评价邀请（一事一评），输出评价链接。"""
    survey = find_survey(survey_ref)
    try:
        transaction = transaction_from(reference, window, staff_code)
    except DomainError as error:
        fail(error)
    if survey["status"] == "closed":
        fail(ValueError("问卷已结束收集，不能再发放评价邀请"))
    row, created = window_store.invite(get_db(), survey["id"], transaction,
                                       current_app.config["INVITATION_DAYS"])
    result = {"id": row["id"], "reference": row["reference"], "window": row["window_name"],
              "staff": row["staff_code"], "url": invitation_url(row["token"]), "created": created,
              "expires_at": row["expires_at"], "answered": row["response_id"] is not None}
    if as_json:
        echo_json(result)
    else:
        click.echo(f"{'已生成' if created else '已存在'}评价邀请：办件编号 {row['reference']}")
        click.echo(f"评价链接：{result['url']}")
    if warning := loopback_warning("此评价链接"):
        click.echo(f"注意：{warning}", err=True)


@click.command("kiosk")
@click.argument("survey_ref", metavar="SURVEY")
@click.option("--window", required=True, help="平板所在的窗口，如“窗口 3”")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def kiosk_command(survey_ref, window, as_json):
    """为窗口登记一台评价平板，输出平板应打开的网址。"""
    survey = find_survey(survey_ref)
    try:
        name = checked_window(window)
    except DomainError as error:
        fail(error)
    if not name:
        fail(ValueError("请填写窗口名称（--window）"))
    row = window_store.register_kiosk(get_db(), survey, name, None)
    url = kiosk_url(row["token"])
    if as_json:
        echo_json({"id": row["id"], "survey_id": survey["id"], "window": name, "url": url})
    else:
        click.echo(f"已登记“{name}”的评价平板，请在平板浏览器中打开：{url}")
    if warning := loopback_warning("此平板地址"):
        click.echo(f"注意：{warning}", err=True)


COMMANDS = [invite_command, kiosk_command]
