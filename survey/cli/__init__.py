"""The `survey` command: a Flask CLI group (so `survey run` and `survey routes` work too).

Commands are thin click wrappers: domain and store errors become click errors in Chinese.
"""
import click
from flask.cli import FlaskGroup

from .. import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_version_option=False)
def cli():
    """满意度调查服务 survey 的命令行工具。"""


def register(*modules):
    for module in modules:
        for command in module.COMMANDS:
            cli.add_command(command)


from . import accounts, assessments, base, cases, data, demo, ops, scoring, surveys, windows  # noqa: E402

register(base, accounts, demo, surveys, scoring, assessments, data, ops, cases, windows)
