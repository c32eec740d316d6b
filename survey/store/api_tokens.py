"""Per-department API tokens: shown once at creation, stored only as a SHA-256 hash."""
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from . import StoreError
from .util import audit, iso, utc_now

TOKEN_PREFIX = "sv_"  # nosec B105 - a template or a visible prefix, not a secret
NAME_MAX = 60
# Recording every use would turn each read into a write; once an hour is enough to show staff.
LAST_USED_GRANULARITY = dt.timedelta(hours=1)
# Every token reads; 'invite' also lets a window's business system create 一事一评 invitations.
SCOPES = {"read": "只读", "invite": "创建一事一评邀请"}


class ApiTokenError(StoreError):
    """A token that cannot be created or revoked as asked."""


@dataclass(frozen=True)
class NewToken:
    id: int
    token: str  # the only time the plain token exists


def token_hash(token: str) -> str:
    # The token carries 256 random bits, so a plain (unsalted) SHA-256 cannot be reversed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db, department_id: int, name: str, user_id: int | None,
                 scopes: tuple[str, ...] = ("read",)) -> NewToken:
    name = (name or "").strip()
    if "read" not in scopes or not set(scopes) <= set(SCOPES):
        raise ApiTokenError("未知的令牌权限")
    if not name:
        raise ApiTokenError("请填写令牌用途，例如“财政局绩效系统”")
    if len(name) > NAME_MAX:
        raise ApiTokenError(f"用途说明最多 {NAME_MAX} 个字")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.atomic():
        token_id = db.table("api_tokens").insert({
            "department_id": department_id, "name": name, "token_hash": token_hash(token),
            "prefix": token[:10], "created_by": user_id, "created_at": iso(utc_now()),
            "scopes": " ".join(s for s in SCOPES if s in scopes),
        }).last_pk
        audit(db, "api_token.create", department_id=department_id, user_id=user_id,
              subject=token_id, detail={"name": name, "scopes": list(scopes)})
    return NewToken(token_id, token)


def revoke_token(db, token_id: int, department_id: int, user_id: int | None) -> None:
    """Revoke a token of the department; another department's token is 'not found'."""
    with db.atomic():
        row = db.execute("SELECT revoked_at FROM api_tokens WHERE id = ? AND department_id = ?",
                         [token_id, department_id]).fetchone()
        if row is None:
            raise ApiTokenError("令牌不存在")
        if row[0] is not None:
            return
        db.execute("UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ?",
                   [iso(utc_now()), user_id, token_id])
        audit(db, "api_token.revoke", department_id=department_id, user_id=user_id,
              subject=token_id)


def department_tokens(db, department_id: int) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT t.id, t.name, t.prefix, t.created_at, t.revoked_at, t.last_used_at, t.scopes, "
        "u.username AS created_by_name FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by "
        "WHERE t.department_id = ? ORDER BY t.revoked_at IS NOT NULL, t.id DESC",
        [department_id])]


def authenticate(db, token: str) -> dict | None:
    """The active token's row (id, department_id, name, scopes: a set), or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    rows = list(db.query(
        "SELECT id, department_id, name, last_used_at, scopes FROM api_tokens "
        "WHERE token_hash = ? AND revoked_at IS NULL", [token_hash(token)]))
    if not rows:
        return None
    _touch(db, rows[0])
    return {**rows[0], "scopes": set(rows[0]["scopes"].split())}


def _touch(db, row: dict) -> None:
    now = utc_now()
    if row["last_used_at"] and row["last_used_at"] > iso(now - LAST_USED_GRANULARITY):
        return
    db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [iso(now), row["id"]])
