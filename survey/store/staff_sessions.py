"""Server-side staff sessions: only a hash of each session id is stored.

The id is 32 random bytes, so a plain SHA-256 is enough (nothing to brute-force)."""
import datetime as dt
import hashlib
import secrets

from .util import iso, utc_now

# last_seen is written at most this often: a staff page must not cost a write per request.
TOUCH_EVERY = dt.timedelta(seconds=60)
# Ended and expired sessions are kept this long (who was logged in when), then deleted.
KEEP_ENDED = dt.timedelta(days=30)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


def start(db, user_id: int) -> str:
    """A new session for the user; the raw id, for the cookie only."""
    session_id = secrets.token_urlsafe(32)
    now = iso(utc_now())
    db.execute("DELETE FROM staff_sessions WHERE created_at < ?", [iso(utc_now() - KEEP_ENDED)])
    db.execute("INSERT INTO staff_sessions (id_hash, user_id, created_at, last_seen) "
               "VALUES (?, ?, ?, ?)", [_hash(session_id), user_id, now, now])
    return session_id


def user_id_of(db, session_id: str, *, lifetime: dt.timedelta, idle: dt.timedelta) -> int | None:
    """The user of a live session: not revoked, younger than `lifetime` since login (activity
    does not extend it) and seen within `idle`."""
    now = utc_now()
    row = db.execute(
        "SELECT user_id, last_seen FROM staff_sessions WHERE id_hash = ? AND revoked_at IS NULL "
        "AND created_at > ? AND last_seen > ?",
        [_hash(session_id), iso(now - lifetime), iso(now - idle)]).fetchone()
    if row is None:
        return None
    if dt.datetime.fromisoformat(row[1]) < now - TOUCH_EVERY:
        db.execute("UPDATE staff_sessions SET last_seen = ? WHERE id_hash = ?",
                   [iso(now), _hash(session_id)])
    return row[0]


def end(db, session_id: str) -> None:
    db.execute("UPDATE staff_sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL",
               [iso(utc_now()), _hash(session_id)])


def end_all(db, user_id: int) -> int:
    """End every session of the user (password change or reset, account disabled)."""
    return db.execute("UPDATE staff_sessions SET revoked_at = ? WHERE user_id = ? "
                      "AND revoked_at IS NULL", [iso(utc_now()), user_id]).rowcount
