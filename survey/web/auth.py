"""Who is logged in, and the decorators that guard staff pages."""
import functools

from flask import abort, g, redirect, request, session, url_for

from ..store import accounts
from .db import get_db


def load_user():
    user_id = session.get("user_id")
    g.user = accounts.user(get_db(), user_id) if isinstance(user_id, int) else None


def login_user(user: dict) -> None:
    # A fresh session on login: an attacker-planted session cannot be carried over (fixation).
    session.clear()
    session["user_id"] = user["id"]
    session.permanent = True


def login_required(view):
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.get("user") is None:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)
    return wrapped


def admin_required(view):
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.get("user") is None:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        if g.user["role"] != "admin":
            abort(403)
        return view(**kwargs)
    return wrapped


def department_id() -> int:
    return g.user["department_id"]


def safe_next(target: str | None) -> str | None:
    """Only local paths: a login link must not bounce the user to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None
