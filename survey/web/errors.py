"""Error pages in Chinese: errors/<status>.html when it exists, else errors/generic.html."""
import sqlite3

from flask import render_template, request
from jinja2 import TemplateNotFound
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: "请求无效，请返回上一页重新操作。",
    403: "您没有权限访问该页面。",
    404: "您访问的页面不存在，请核对链接或二维码。",
    405: "不支持该操作方式。",
    413: "提交的内容过大。",
    429: "操作过于频繁，请稍后再试。",
    500: "服务器开小差了，请稍后再试。",
    503: "系统繁忙，请稍后再试。您填写的内容尚未提交。",
}


def render_error(status: int, message: str | None = None):
    context = {"status": status, "message": message or MESSAGES.get(status, MESSAGES[500])}
    if request.path.startswith("/api/"):
        return {"error": context["message"], "status": status}, status
    try:
        return render_template(f"errors/{status}.html", **context), status
    except TemplateNotFound:
        return render_template("errors/generic.html", **context), status


def _http_error(error: HTTPException):
    body, status = render_error(error.code or 500, getattr(error, "description_zh", None))
    # werkzeug's own headers stay (Allow on a 405, Retry-After, WWW-Authenticate); the body,
    # and so its Content-Type, is ours.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return body, status, headers


def _database_error(error: sqlite3.OperationalError):
    # Locked, read-only or full disk: nothing was stored; ask the person to try again.
    return render_error(503)


def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _http_error(error)
    return render_error(500)


def init_app(app):
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(sqlite3.OperationalError, _database_error)
    app.register_error_handler(sqlite3.DatabaseError, _database_error)
    app.register_error_handler(InternalServerError, _unexpected)
