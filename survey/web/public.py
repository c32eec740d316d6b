"""What a citizen sees: the questionnaire at /s/<token>, and the thank-you page."""
import datetime as dt
import secrets
import time

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for

from ..core.questionnaire import CHANNEL_MAX
from ..store import surveys as survey_store
from ..store.responses import (
    AlreadyAnsweredError,
    DuplicateSubmissionError,
    Submission,
    record_form_view,
    record_response,
    submissions_since,
)
from ..store.util import iso, utc_now
from . import large_type, security
from .db import get_db
from .forms.cases import callback_after_insert, with_callback_block
from .forms.public import answers_from, new_ticket, read_ticket, response_form_class

bp = Blueprint("public", __name__)
DEVICE_COOKIE = "sv_device"


@bp.get("/")
def index():
    return render_template("public/index.html")


def _open_survey(token: str) -> dict:
    survey = survey_store.survey_by_token(get_db(), token) if len(token) <= 64 else None
    if survey is None:
        abort(404)
    return survey


def _closed_page(survey: dict):
    if survey["status"] == "closed" or (
            survey["status"] == "open" and not survey_store.is_accepting(survey)):
        message = "本次问卷调查不在收集时间内，感谢您的关注。"
    else:
        message = "本问卷尚未开放，请稍后再来。感谢您的关注。"
    return render_template("public/message.html", survey=survey, title="问卷暂未开放",
                           message=message), 200


@bp.get("/s/<token>")
def form(token):
    survey = _open_survey(token)
    if not survey_store.is_accepting(survey):
        return _closed_page(survey)
    channel = request.args.get("ch", "")[:CHANNEL_MAX]
    source = "qr" if request.args.get("via") == "qr" else "web"
    db = get_db()
    questions = survey_store.questionnaire(db, survey["id"])
    form_ = with_callback_block(response_form_class(questions), survey)(formdata=None, meta={
        "csrf_context": new_ticket(source, channel)})
    if not large_type.switched():
        record_form_view(db, survey["id"], channel)
    response = make_response(render_template("public/form.html", survey=survey,
                                              questions=questions, form=form_))
    _ensure_device_cookie(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/s/<token>")
@security.csrf.exempt  # the form carries its own stateless ticket (see forms.public)
def submit(token):
    survey = _open_survey(token)
    if not survey_store.is_accepting(survey):
        return _closed_page(survey)
    db = get_db()
    questions = survey_store.questionnaire(db, survey["id"])
    posted_ticket = request.form.get("ticket", "")
    ticket = read_ticket(posted_ticket)
    form_ = with_callback_block(response_form_class(questions), survey)(meta={
        "csrf_context": posted_ticket if ticket else new_ticket("web", "")})
    if not form_.validate():
        return render_template("public/form.html", survey=survey, questions=questions,
                               form=form_, has_errors=True), 422
    ip_hash = security.client_ip_hash()
    limit_kind = f"submit:{survey['id']}"
    if _too_many_submissions(db, survey["id"], ip_hash):
        security.record_event(db, limit_kind, ip_hash, blocked=True)
        return render_template("public/message.html", survey=survey, title="提交过于频繁",
                               message="同一网络提交过于频繁，请稍后再试。"), 429
    submission = Submission(
        answers=answers_from(form_, questions), nonce=ticket["n"], source=ticket["s"],
        channel=ticket["c"], duration_seconds=max(0.0, round(time.time() - ticket["t"], 1)),
        device_hash=_device_hash(), ip_hash=ip_hash)
    try:
        record_response(db, survey, questions, submission,
                        after_insert=callback_after_insert(form_))
    except DuplicateSubmissionError:
        pass  # a double tap or a retry: the first submission stands
    except AlreadyAnsweredError as error:
        return render_template("public/message.html", survey=survey, title="您已提交过",
                               message=str(error)), 200
    return redirect(url_for("public.thanks", token=token, **large_type.keep()), 303)


@bp.get("/s/<token>/thanks")
def thanks(token):
    survey = _open_survey(token)
    return render_template("public/thanks.html", survey=survey)


def _too_many_submissions(db, survey_id: int, ip_hash: str) -> bool:
    """A service hall's shared Wi-Fi sends a few an hour; a script sends hundreds."""
    since = iso(utc_now() - dt.timedelta(minutes=10))
    return submissions_since(db, survey_id, ip_hash, since) >= current_app.config["SUBMIT_RATE_LIMIT"]


def _device_hash() -> str | None:
    token = request.cookies.get(DEVICE_COOKIE, "")
    if not token or len(token) > 64:
        return None
    return security.keyed_hash(token, "device")


def _ensure_device_cookie(response) -> None:
    if request.cookies.get(DEVICE_COOKIE):
        return
    response.set_cookie(DEVICE_COOKIE, secrets.token_urlsafe(16),
                        max_age=current_app.config["DEVICE_COOKIE_DAYS"] * 86400,
                        httponly=True, samesite="Lax", secure=request.is_secure)
