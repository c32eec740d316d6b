"""Departments and staff users."""
import functools

from werkzeug.security import check_password_hash, generate_password_hash

from . import StoreError, staff_sessions
from .util import audit, iso, utc_now

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def ensure_department(db, name: str) -> int:
    name = name.strip()
    if not name:
        raise StoreError("部门名称不能为空")
    row = db.execute("SELECT id FROM departments WHERE name = ?", [name]).fetchone()
    if row:
        return row[0]
    return db.table("departments").insert({"name": name, "created_at": iso(utc_now())}).last_pk


def department(db, department_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM departments WHERE id = ?", [department_id]))
    return rows[0] if rows else None


def department_by_name(db, name: str) -> dict | None:
    rows = list(db.query("SELECT * FROM departments WHERE name = ?", [name.strip()]))
    return rows[0] if rows else None


def create_user(db, username: str, password: str, department_id: int, role: str = "staff") -> int:
    username = username.strip()
    if not username:
        raise StoreError("用户名不能为空")
    if role not in ("admin", "staff"):
        raise StoreError("角色只能是 admin 或 staff")
    _check_password_rule(password)
    if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
        raise StoreError(f"用户名 {username} 已存在")
    user_id = db.table("users").insert({
        "username": username,
        # scrypt: memory-hard, werkzeug's default and the modern choice it offers.
        "password_hash": _password_hash(password),
        "role": role, "department_id": department_id, "active": 1,
        "created_at": iso(utc_now()),
    }).last_pk
    audit(db, "user.create", department_id=department_id, subject=username, detail={"role": role})
    return user_id


def _check_password_rule(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StoreError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 位")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StoreError(f"密码最多 {MAX_PASSWORD_LENGTH} 位")


def _password_hash(password: str) -> str:
    # scrypt: memory-hard, werkzeug's default and the modern choice it offers.
    return generate_password_hash(password, method="scrypt")


@functools.cache
def _dummy_hash() -> str:
    return _password_hash("no account has this password")


def authenticate(db, username: str, password: str) -> dict | None:
    """The active user with this name and password, else None.

    An unknown or disabled name still runs one scrypt check (against a dummy hash), so the
    answer's timing does not tell which names exist."""
    rows = list(db.query("SELECT * FROM users WHERE username = ?", [username.strip()]))
    stored = rows[0]["password_hash"] if rows else _dummy_hash()
    if check_password_hash(stored, password) and rows and rows[0]["active"]:
        return rows[0]
    return None


class WrongPasswordError(StoreError):
    """The current password given to change it is not the user's."""


def change_password(db, user_id: int, current: str, new: str) -> None:
    """A user changing their own password: the current one is required. Every session of
    the user ends (the caller starts a fresh one for the person at the keyboard)."""
    row = db.execute("SELECT password_hash FROM users WHERE id = ?", [user_id]).fetchone()
    if row is None or not check_password_hash(row[0], current):
        raise WrongPasswordError("当前密码不正确")
    if new == current:
        raise StoreError("新密码不能与当前密码相同")
    _check_password_rule(new)
    with db.atomic():
        _store_password(db, user_id, new)
        audit(db, "user.password_change", user_id=user_id, subject=str(user_id))


def set_password(db, user_id: int, new: str, *, by_user_id: int | None = None) -> None:
    """An administrator (or the command line) setting another account's password."""
    _check_password_rule(new)
    with db.atomic():
        _store_password(db, user_id, new)
        audit(db, "user.password_reset", user_id=by_user_id, subject=str(user_id))


def _store_password(db, user_id: int, new: str) -> None:
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [_password_hash(new), user_id])
    staff_sessions.end_all(db, user_id)


def set_active(db, user_id: int, active: bool, *, by_user_id: int | None = None) -> None:
    """Disable or enable an account; disabling ends its sessions at once."""
    with db.atomic():
        db.execute("UPDATE users SET active = ? WHERE id = ?", [int(active), user_id])
        if not active:
            staff_sessions.end_all(db, user_id)
        audit(db, "user.enable" if active else "user.disable", user_id=by_user_id,
              subject=str(user_id))


def user_by_name(db, username: str) -> dict | None:
    """Any user, active or not (the command line manages disabled accounts too)."""
    rows = list(db.query("SELECT * FROM users WHERE username = ?", [username.strip()]))
    return rows[0] if rows else None


def department_user(db, department_id: int, user_id: int) -> dict | None:
    rows = list(db.query("SELECT id, username, role, active, created_at FROM users "
                         "WHERE id = ? AND department_id = ?", [user_id, department_id]))
    return rows[0] if rows else None


def user(db, user_id: int) -> dict | None:
    rows = list(db.query(
        "SELECT users.*, departments.name AS department_name FROM users "
        "JOIN departments ON departments.id = users.department_id "
        "WHERE users.id = ? AND users.active = 1", [user_id]))
    return rows[0] if rows else None


def department_users(db, department_id: int) -> list[dict]:
    return list(db.query(
        "SELECT id, username, role, active, created_at FROM users WHERE department_id = ? "
        "ORDER BY username", [department_id]))
