"""What a citizen sees: the questionnaire at /s/<token>, and the thank-you page."""
import json
import re
import secrets
import time

from flask import Blueprint, abort, current_app, make_response, render_template, request
from markupsafe import Markup

from ..core.conditions import hints as condition_hints
from ..core.questionnaire import CHANNEL_MAX
from ..store import surveys as survey_store
from ..store.responses import (
    AlreadyAnsweredError,
    DuplicateSubmissionError,
    Submission,
    record_form_view,
    record_response,
)
from . import large_type, security
from .db import get_db
from .forms.cases import callback_after_insert, with_callback_block
from .forms.public import answers_from, new_ticket, plain_answers, read_ticket, response_form_class

bp = Blueprint("public", __name__)
DEVICE_COOKIE = "sv_device"


@bp.get("/")
def index():
    return render_template("public/index.html")


def _open_survey(token: str) -> dict:
    survey = survey_store.public_survey(get_db(), token) if len(token) <= 64 else None
    if survey is None:
        abort(404)
    return survey


def _closed_page(survey: dict):
    if survey.get("archived_at"):
        return render_template("public/message.html", survey=survey, title="问卷已结束",
                               message="本次问卷调查已经结束，不再接收新的答卷。感谢您的关注和支持！"), 200
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
    questions = survey_store.public_questionnaire(db, survey)
    fresh_html, offers_callback = fresh_form_html(db, survey, questions)
    ticket = new_ticket(source, channel, survey["id"])
    if not large_type.switched():
        record_form_view(db, survey["id"], channel)

    def render(ticket_text):
        return render_template(
            "public/form.html", survey=survey, questions=questions, ticket=ticket_text,
            fresh_html=fresh_html, offers_callback=offers_callback, action=_action(survey),
            hints=question_hints(db, survey, questions))

    if request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        page = render(ticket)  # a staff member: the page may carry their flashes and top bar
    else:  # a citizen's page differs from the next only by its ticket: rendered once, cached
        key = ("page", fresh_html, survey["title"], survey["intro"], survey["department_name"],
               survey["token"], request.script_root, large_type.active())
        before, after = survey_store.cached(db, survey, key, lambda: _BETWEEN_TAGS.sub(
            ">\n<", render(_TICKET_SLOT)).split(_TICKET_SLOT))
        page = before + ticket + after
    response = make_response(page)
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
    questions = survey_store.public_questionnaire(db, survey)
    posted_ticket = request.form.get("ticket", "")
    ticket = read_ticket(posted_ticket, survey["id"])
    # The common case, answers WTForms would take as they are, skips building the form (a
    # third of the POST's CPU); anything else goes through the form, which explains.
    answers = None
    if ticket and not (request.form.get("callback_phone") or request.form.get("callback_consent")):
        answers = plain_answers(questions, request.form)
    after_insert = None
    if answers is None:
        form_ = with_callback_block(cached_form_class(db, survey, questions), survey)(meta={
            "csrf_context": (posted_ticket if ticket else new_ticket("web", "", survey["id"]),
                             survey["id"])})
        if not form_.validate():
            return render_template("public/form.html", survey=survey, questions=questions,
                                   form=form_, has_errors=True, action=_action(survey),
                                   hints=question_hints(db, survey, questions)), 422
        answers, after_insert = answers_from(form_, questions), callback_after_insert(form_)
    # A busy address is never refused (a service hall shares one Wi-Fi address): its answers
    # beyond the limit are stored and screened out for review. A script is held back by the
    # one-time form tickets, each bound to this survey.
    submission = Submission(
        answers=answers, nonce=ticket["n"], source=ticket["s"],
        channel=ticket["c"], duration_seconds=max(0.0, round(time.time() - ticket["t"], 1)),
        device_hash=_device_hash(), ip_hash=security.client_ip_hash(),
        address_limit=current_app.config["SUBMIT_RATE_LIMIT"])
    try:
        record_response(db, survey, questions, submission, after_insert=after_insert)
    except DuplicateSubmissionError:
        pass  # a double tap or a retry: the first submission stands
    except AlreadyAnsweredError as error:
        return render_template("public/message.html", survey=survey, title="您已提交过",
                               message=str(error)), 200
    # What redirect(url_for(...)) answers, without a URL build and an HTML body (5 % of a
    # submission's CPU): the thank-you page's path under this application's root.
    return current_app.response_class(status=303, headers={
        "Location": f"{request.script_root}/s/{survey['token']}/thanks{_large_query()}"})


@bp.get("/s/<token>/thanks")
def thanks(token):
    survey = _open_survey(token)
    return render_template("public/thanks.html", survey=survey)


def question_hints(db, survey: dict, questions: list[dict]) -> dict[int, str]:
    """Conditional questions' conditions in words (core.conditions.hints), cached."""
    return survey_store.cached(db, survey, "hints", lambda: condition_hints(questions))


def cached_form_class(db, survey: dict, questions: list[dict]):
    """The questionnaire's form class, built once per questionnaire revision."""
    name = "form_class" if questions else "ticket_form_class"
    return survey_store.cached(db, survey, name, lambda: response_form_class(questions))


_TICKET_SLOT = "TICKET-SLOT-8d1f0c5e"  # only letters, digits, '-': escaping leaves it alone
# Template indentation between tags: a third of the page's bytes, none of its meaning (text
# inside elements, a citizen's or a title's, is left as it is).
_BETWEEN_TAGS = re.compile(r">\s+<")


def _action(survey: dict) -> str:
    """url_for("public.submit"): the token is URL-safe base64, nothing to quote."""
    return f"{request.script_root}/s/{survey['token']}{_large_query()}"


def _large_query() -> str:
    """大字版 travels in the query string (see large_type): kept on the next page."""
    return "?large=1" if large_type.active() else ""


def fresh_form_html(db, survey: dict, questions: list[dict]) -> tuple[Markup, bool]:
    """The questions and the call-back block of a fresh form (nothing chosen, no errors), and
    whether the block is offered; rendered once per questionnaire revision, survey settings,
    department name and retention period, then cached."""
    retention = current_app.config["CALLBACK_RETENTION_DAYS"]
    name = ("fresh_html", json.dumps(survey["settings"].get("cases"), sort_keys=True),
            survey["department_name"], retention)

    def build():
        form_class = with_callback_block(cached_form_class(db, survey, questions), survey)
        fresh = form_class(formdata=None, meta={"csrf": False})
        html = render_template("public/_fresh.html", form=fresh, questions=questions,
                               hints=question_hints(db, survey, questions))
        return Markup(html), hasattr(fresh, "callback_phone")  # nosec B704 - our own autoescaped template's output
    return survey_store.cached(db, survey, name, build)


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
