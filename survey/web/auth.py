"""Who is logged in, and the decorators that guard staff pages."""
import functools
from urllib.parse import unquote, urlsplit

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
    """Only same-site paths: a login link must not bounce the user to another site.

    Browsers drop tabs and newlines and read backslashes as slashes, so anything with a
    control character or a backslash, before or after percent-decoding, is refused, as is
    anything that is not a single-slash path without scheme or host."""
    if not target:
        return None
    for candidate in (target, unquote(target)):
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate) or "\\" in candidate:
            return None
        if not candidate.startswith("/") or candidate.startswith("//"):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return target
