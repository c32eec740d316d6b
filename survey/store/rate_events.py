"""Rate-limit events (logins, submissions): keyed hashes only, never a raw address."""
from .util import iso, utc_now


def count_since(db, kind: str, key_hash: str, since: str) -> int:
    return db.execute("SELECT count(*) FROM rate_events WHERE kind = ? AND key_hash = ? AND at > ?",
                      [kind, key_hash, since]).fetchone()[0]


def record_event(db, kind: str, key_hash: str, blocked: bool = False) -> None:
    db.table("rate_events").insert({"kind": kind, "key_hash": key_hash, "at": iso(utc_now()),
                                    "blocked": int(blocked)})
