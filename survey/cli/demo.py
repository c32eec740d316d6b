"""`survey demo`."""
import click
from flask import current_app
from flask.cli import with_appcontext

from ..store.demo import load_demo
from ..web.db import get_db
from ..web.urls import served_base_url


@click.command("demo")
@click.option("--responses", default=100, show_default=True, type=click.IntRange(0, 100000))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="将用 survey serve --host 启动的地址（只影响打印的链接）")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="将用 survey serve --port 启动的端口（只影响打印的链接）")
@with_appcontext
def demo_command(responses, host, port):
    """载入演示数据：平桥区人社局、一份收集中的群众满意度调查（约 100 份答卷）、按原报告数字录入的
    2022 年度自评（其中的问题是原报告自身的数据矛盾，有意保留）和演示账号。"""
    info = load_demo(get_db(), responses)
    base = served_base_url(host, port)
    click.echo(f"演示部门：{info['department']}")
    click.echo(f"工作人员登录：{base}/staff/login  用户名 {info['username']}  "
               f"密码 {info['password']}")
    click.echo(f"群众答卷链接：{base}/s/{info['token']}")
    click.echo("演示自评“2022 年度部门整体支出绩效自评”列出的问题来自原报告本身的数据矛盾，有意保留。")
    if not current_app.config.get("BASE_URL"):
        click.echo("以上链接按 survey serve 的默认地址生成；用其他地址或端口启动时，请在本命令加 "
                   "--host/--port，或设置 SURVEY_BASE_URL。")


COMMANDS = [demo_command]
