"""`survey backup` and `survey restore`: thin wrappers over survey.ops."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..store import StoreError, ops
from ..web.security import key_fingerprint
from .base import fail


def _database() -> Path:
    return Path(current_app.config["DATABASE"])


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file):
    """在线备份数据库到 FILE（服务运行中也可执行），并检查备份的完整性。"""
    try:
        info = ops.backup(_database(), file)
    except StoreError as error:
        fail(error)
    click.echo(f"已备份到 {info.path}（{info.size_bytes} 字节，答卷 {info.responses} 份，"
               f"完整性检查：{info.integrity}）")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="当前数据库中有备份之后收到的答卷时仍然恢复（它们保留在 .bak 文件中）")
@click.option("--yes", is_flag=True, help="不再询问确认")
@with_appcontext
def restore_command(file, force, yes):
    """用备份文件 FILE 恢复数据库；当前数据库先另存为带时间戳的 .bak 文件。请先停止服务。"""
    if not yes:
        click.confirm(f"将用 {file} 替换当前数据库 {_database()}，是否继续？", abort=True)
    try:
        result = ops.restore(_database(), file, force=force)
    except StoreError as error:
        fail(error)
    click.echo(f"已恢复：答卷 {result.restored.responses} 份，完整性检查："
               f"{result.restored.integrity}")
    if result.kept_as:
        click.echo(f"原数据库已另存为 {result.kept_as}")
    _warn_if_made_with_other_secrets()


def _warn_if_made_with_other_secrets() -> None:
    """Keyed hashes (device dedupe, busy addresses) and signed form tickets depend on the
    instance secrets, which live in instance/config.py, not in the database."""
    made_with = ops.key_fingerprint(_database())
    if made_with is not None and made_with != key_fingerprint(current_app.config):
        click.echo(
            "注意：该备份来自另一个实例（密钥不同）。请把原机器实例目录中的 config.py"
            f"（含 SECRET_KEY、HASH_KEY）复制到本机实例目录 {current_app.instance_path} "
            "后再启动服务；否则同一设备重复提交的识别、同一网络提交的计数、"
            "已打开的问卷表单和登录会话都将失效。", err=True)


COMMANDS = [backup_command, restore_command]
