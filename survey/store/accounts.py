"""Departments and staff users."""
from werkzeug.security import check_password_hash, generate_password_hash

from . import StoreError
from .util import audit, iso, utc_now

MIN_PASSWORD_LENGTH = 8


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StoreError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 位")
    if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
        raise StoreError(f"用户名 {username} 已存在")
    user_id = db.table("users").insert({
        "username": username,
        # scrypt: memory-hard, werkzeug's default and the modern choice it offers.
        "password_hash": generate_password_hash(password, method="scrypt"),
        "role": role, "department_id": department_id, "active": 1,
        "created_at": iso(utc_now()),
    }).last_pk
    audit(db, "user.create", department_id=department_id, subject=username, detail={"role": role})
    return user_id


def authenticate(db, username: str, password: str) -> dict | None:
    rows = list(db.query("SELECT * FROM users WHERE username = ? AND active = 1",
                         [username.strip()]))
    if rows and check_password_hash(rows[0]["password_hash"], password):
        return rows[0]
    return None


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
