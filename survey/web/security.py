"""CSRF, security headers, secure cookies, keyed hashes of client identifiers, rate limits."""
import datetime as dt
import hashlib
import hmac

from flask import current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from ..store import rate_events
from ..store.util import iso, utc_now

csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)


class _SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app):
        # Secure whenever the request came over HTTPS (directly or via a trusted proxy).
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure

    def open_session(self, app, request):
        # A citizen carries no session cookie: an empty session, as Flask's own, without
        # building a signing serializer on every request (a tenth of a bare request's CPU).
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        # Flask reads every cookie setting before it finds there is nothing to save.
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def init_app(app):
    csrf.init_app(app)
    app.session_interface = _SessionInterface()
    app.after_request(_headers)
    if app.config.get("TRUST_PROXY"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)


def keyed_hash(value: str, purpose: str) -> str:
    """An HMAC under the instance's secret key: the raw value is never stored."""
    key = (current_app.config["HASH_KEY"] + purpose).encode()
    return hmac.new(key, value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def key_fingerprint(config) -> str:
    """Names this instance's secrets without revealing them (see store.ops.key_fingerprint)."""
    key = (config["SECRET_KEY"] + config["HASH_KEY"]).encode()
    return hmac.new(key, b"instance key fingerprint", hashlib.sha256).hexdigest()[:16]


def client_ip_hash() -> str:
    return keyed_hash(request.remote_addr or "", "ip")


LOGIN_WINDOW_MINUTES = 15


class LoginAttempt:
    """One login attempt, counted before the password is checked (see `rate_events.count_attempt`).

    Refused when the user name had LOGIN_RATE_LIMIT attempts in the window or the address
    LOGIN_ADDRESS_RATE_LIMIT (ten times as many: one office behind one address is not locked
    out of every account by a colleague's typos). A correct password forgets the attempt."""

    def __init__(self, db, username: str):
        config = current_app.config
        since = iso(utc_now() - dt.timedelta(minutes=LOGIN_WINDOW_MINUTES))
        keys = [keyed_hash(username.strip(), "login"), client_ip_hash()]
        self.db = db
        self.event_ids, counts = rate_events.count_attempt(db, "login", keys, since)
        self.refused = (counts[0] > config["LOGIN_RATE_LIMIT"]
                        or counts[1] > config["LOGIN_ADDRESS_RATE_LIMIT"])

    def succeeded(self) -> None:
        rate_events.forget(self.db, self.event_ids)

