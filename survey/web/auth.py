"""Who is logged in, and the decorators that guard staff pages.

The session cookie carries only a random session id; the session itself (user, login time,
last activity, revoked) is a row of `staff_sessions`, so it can be ended server-side."""
import datetime as dt
import functools
from urllib.parse import unquote, urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for

from ..store import accounts, staff_sessions
from .db import get_db

SESSION_KEY = "sid"


def load_user():
    g.user = None
    session_id = session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return
    config = current_app.config
    db = get_db()
    user_id = staff_sessions.user_id_of(
        db, session_id, lifetime=dt.timedelta(hours=config["SESSION_LIFETIME_HOURS"]),
        idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]))
    g.user = accounts.user(db, user_id) if user_id is not None else None
    if g.user is None:
        session.pop(SESSION_KEY)  # ended, expired or disabled: the browser forgets it too


def login_user(user: dict) -> None:
    # A fresh session on login: an attacker-planted session cannot be carried over (fixation).
    session.clear()
    session[SESSION_KEY] = staff_sessions.start(get_db(), user["id"])
    session.permanent = True


def logout_user() -> None:
    session_id = session.get(SESSION_KEY)
    if isinstance(session_id, str):
        staff_sessions.end(get_db(), session_id)
    session.clear()


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
