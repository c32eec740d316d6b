"""`survey` commands: surveys (the QR code of a survey's public link, archiving and restoring)."""
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..io import qr
from ..store import archive
from ..web.db import get_db
from ..web.forms.builder import channel_arg
from ..web.urls import loopback_warning, public_url
from .base import fail, find_survey


@click.command("qr")
@click.argument("survey_ref", metavar="SURVEY")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="输出文件：以 .svg 或 .png 结尾")
@click.option("--channel", default="", help="渠道名称（如“窗口 3”），最多 40 个字")
@click.option("--scale", default=12, show_default=True, type=click.IntRange(1, qr.PNG_SCALE_MAX),
              help="PNG 每个模块的像素数")
@with_appcontext
def qr_command(survey_ref, output, channel, scale):
    """生成问卷答卷链接的二维码（SVG 或 PNG）；网址使用配置的 BASE_URL。"""
    try:
        kind = qr.qr_kind(output)
    except qr.QrFormatError as error:
        fail(error)
    tag = channel_arg(channel)
    if tag is None:
        fail(ValueError("渠道名称最多 40 个字"))
    url = public_url(find_survey(survey_ref)["token"], tag, via_qr=True)
    data = qr.qr_svg(url) if kind == "svg" else qr.qr_png(url, scale)
    try:
        Path(output).write_bytes(data)
    except OSError as error:
        fail(OSError(f"无法写入文件 {output}：{error.strerror}"))
    click.echo(f"已生成二维码：{output}")
    click.echo(f"二维码网址：{url}")
    if warning := loopback_warning():
        click.echo(f"注意：{warning}", err=True)


@click.command("archive")
@click.argument("survey_ref", metavar="SURVEY")
@with_appcontext
def archive_command(survey_ref):
    """归档问卷：从列表中隐藏、不再接收答卷，答卷和工单全部保留；可用 restore-survey 恢复。"""
    survey = find_survey(survey_ref)
    if survey["archived_at"]:
        fail(ValueError(f"问卷“{survey['title']}”已归档"))
    archive.archive_survey(get_db(), survey, None)
    click.echo(f"已归档问卷“{survey['title']}”（编号 {survey['id']}）。")


@click.command("restore-survey")
@click.argument("survey_ref", metavar="SURVEY")
@with_appcontext
def restore_survey_command(survey_ref):
    """恢复已归档的问卷，使其重新出现在问卷列表中（状态不变）。"""
    survey = find_survey(survey_ref)
    if not survey["archived_at"]:
        fail(ValueError(f"问卷“{survey['title']}”没有归档"))
    archive.restore_survey(get_db(), survey, None)
    click.echo(f"已恢复问卷“{survey['title']}”（编号 {survey['id']}）。")


COMMANDS = [qr_command, archive_command, restore_survey_command]
