"""Staff accounts: login, logout, the department's surveys, its users."""
from flask import current_app, flash, redirect, render_template, request, session, url_for

from ...store import StoreError, accounts
from ...store import surveys as survey_store
from .. import security
from ..auth import admin_required, department_id, login_required, login_user, safe_next
from ..db import get_db
from ..forms.staff import LoginForm, UserForm
from ..urls import public_url
from .base import bp


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        db = get_db()
        keys = [security.keyed_hash(form.username.data.strip(), "login"),
                security.client_ip_hash()]
        limit = current_app.config["LOGIN_RATE_LIMIT"]
        if any(security.rate_limited(db, "login", k, limit, 15) for k in keys):
            form.username.errors.append("登录失败次数过多，请 15 分钟后再试")
        else:
            user = accounts.authenticate(db, form.username.data, form.password.data)
            if user:
                login_user(user)
                return redirect(safe_next(request.args.get("next")) or url_for("staff.home"))
            for key in keys:
                security.record_event(db, "login", key, blocked=False)
            form.password.errors.append("用户名或密码不正确")
    return render_template("staff/login.html", form=form)


@bp.post("/logout")
def logout():
    session.clear()
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
