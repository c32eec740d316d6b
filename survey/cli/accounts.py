"""Staff accounts from the command line: a new password, disabling and enabling an account.

The command line acts for the server's operator, so it reaches every department's accounts."""
import sys

import click
from flask.cli import with_appcontext

from ..store import StoreError, accounts
from ..web.db import get_db
from .base import fail


def _account(username: str) -> dict:
    account = accounts.user_by_name(get_db(), username)
    if account is None:
        raise click.ClickException(f"找不到用户：{username}")
    return account


@click.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取新密码")
@with_appcontext
def set_password_command(username, password_stdin):
    """为用户 USERNAME 设置新密码（从提示或标准输入读取）；其已登录的会话全部退出。"""
    account = _account(username)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt=True)
    try:
        accounts.set_password(get_db(), account["id"], password)
    except StoreError as error:
        fail(error)
    click.echo(f"已为 {account['username']} 设置新密码，其已登录的会话已全部退出")


@click.command("disable-user")
@click.argument("username")
@with_appcontext
def disable_user_command(username):
    """停用用户 USERNAME：不能再登录，已登录的会话立即退出。"""
    account = _account(username)
    accounts.set_active(get_db(), account["id"], False)
    click.echo(f"已停用 {account['username']}")


@click.command("enable-user")
@click.argument("username")
@with_appcontext
def enable_user_command(username):
    """重新启用用户 USERNAME。"""
    account = _account(username)
    accounts.set_active(get_db(), account["id"], True)
    click.echo(f"已启用 {account['username']}")


COMMANDS = [set_password_command, disable_user_command, enable_user_command]
