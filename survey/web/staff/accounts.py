"""Staff accounts: login, logout, the department's surveys, its users."""
from flask import abort, flash, g, redirect, render_template, request, url_for

from ...store import StoreError, accounts
from ...store import surveys as survey_store
from .. import security
from ..auth import admin_required, department_id, login_required, login_user, logout_user, safe_next
from ..db import get_db
from ..forms.staff import (
    PASSWORD_RULE,
    AccountStateForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    UserForm,
)
from ..urls import public_url
from .base import bp


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        db = get_db()
        attempt = security.LoginAttempt(db, form.username.data)
        if attempt.refused:
            form.username.errors.append(
                f"登录失败次数过多，请 {security.LOGIN_WINDOW_MINUTES} 分钟后再试")
            return render_template("staff/login.html", form=form), 429
        user = accounts.authenticate(db, form.username.data, form.password.data)
        if user:
            attempt.succeeded()
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("staff.home"))
        form.password.errors.append("用户名或密码不正确")
    return render_template("staff/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("staff.login"))


@bp.get("/")
@login_required
def home():
    surveys = survey_store.department_surveys(get_db(), department_id())
    for s in surveys:
        s["public_url"] = public_url(s["token"])
    return render_template("staff/surveys.html", surveys=surveys,
                           statuses=survey_store.STATUSES)


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    form = UserForm()
    db = get_db()
    if form.validate_on_submit():
        try:
            accounts.create_user(db, form.username.data, form.password.data, department_id(),
                                 form.role.data)
        except StoreError as error:
            form.username.errors.append(str(error))
        else:
            flash(f"已创建用户 {form.username.data}")
            return redirect(url_for("staff.users"))
    return render_template("staff/users.html", form=form,
                           users=accounts.department_users(db, department_id()))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        # Guessing the current password here counts like guessing it at the login page.
        attempt = security.LoginAttempt(get_db(), g.user["username"])
        if attempt.refused:
            form.current_password.errors.append(
                f"尝试次数过多，请 {security.LOGIN_WINDOW_MINUTES} 分钟后再试")
            return render_template("staff/password.html", form=form,
                                   password_rule=PASSWORD_RULE), 429
        try:
            accounts.change_password(get_db(), g.user["id"], form.current_password.data,
                                     form.new_password.data)
        except accounts.WrongPasswordError as error:
            form.current_password.errors.append(str(error))
        except StoreError as error:
            attempt.succeeded()
            form.new_password.errors.append(str(error))
        else:
            attempt.succeeded()
            login_user(g.user)  # every session ended; this person keeps working in a new one
            flash("密码已修改，其他设备上的登录已全部退出")
            return redirect(url_for("staff.home"))
    return render_template("staff/password.html", form=form, password_rule=PASSWORD_RULE)


def _other_account(user_id: int) -> dict:
    """An account of the admin's department, else 404. The admin's own account is shown but
    not changed here: its password goes through 「修改密码」 (which asks for the current one),
    and an admin cannot disable themself."""
    account = accounts.department_user(get_db(), department_id(), user_id)
    if account is None:
        abort(404)
    return account


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_account(user_id):
    account = _other_account(user_id)
    form = PasswordResetForm()
    # Their own account: the page points to 「修改密码」 and takes no new password here.
    if account["id"] != g.user["id"] and form.validate_on_submit():
        try:
            accounts.set_password(get_db(), user_id, form.new_password.data, by_user_id=g.user["id"])
        except StoreError as error:
            form.new_password.errors.append(str(error))
        else:
            flash(f"已重设 {account['username']} 的密码，其已登录的会话全部退出")
            return redirect(url_for("staff.user_account", user_id=user_id))
    return render_template("staff/user_account.html", account=account, form=form,
                           state_form=AccountStateForm(), password_rule=PASSWORD_RULE)


@bp.post("/users/<int:user_id>/disable")
@admin_required
def disable_user(user_id):
    return _set_active(_other_account(user_id), False)


@bp.post("/users/<int:user_id>/enable")
@admin_required
def enable_user(user_id):
    return _set_active(_other_account(user_id), True)


def _set_active(account: dict, active: bool):
    if not AccountStateForm().validate_on_submit():
        abort(400)
    if account["id"] == g.user["id"]:
        flash("不能停用或启用自己的账号")
    else:
        accounts.set_active(get_db(), account["id"], active, by_user_id=g.user["id"])
        flash(f"已{'启用' if active else '停用'}账号 {account['username']}")
    return redirect(url_for("staff.user_account", user_id=account["id"]))
