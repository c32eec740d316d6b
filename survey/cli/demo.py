"""`survey demo`."""
import click
from flask.cli import with_appcontext

from ..store.demo import load_demo
from ..web.db import get_db
from ..web.urls import public_url


@click.command("demo")
@click.option("--responses", default=100, show_default=True, type=click.IntRange(0, 100000))
@with_appcontext
def demo_command(responses):
    """载入演示数据：平桥区人社局、一份收集中的群众满意度调查（约 100 份答卷）和演示账号。"""
    info = load_demo(get_db(), responses)
    click.echo(f"演示部门：{info['department']}")
    click.echo(f"工作人员登录：http://127.0.0.1:8000/staff/login  用户名 {info['username']}  "
               f"密码 {info['password']}")
    click.echo(f"群众答卷链接：{public_url(info['token'])}")


COMMANDS = [demo_command]
