"""一事一评 for citizens: the link of one transaction's invitation (/t/<token>, from the QR on
the queue ticket or receipt) and a window's tablet (/k/<token>, large type, a fresh form after
every answer).

Both post to their own URL and take the survey from their token, never from the form: a token
of survey A cannot store an answer in survey B, and the signed ticket names the survey too.
Neither is refused by the per-address limit (a hall shares one Wi-Fi address) nor by one
answer per device (a tablet answers for everyone; an invitation allows one answer itself).
Unknown, revoked and mistyped tokens are all the same 404."""
import time

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from ..store import StoreError
from ..store import surveys as survey_store
from ..store import windows as window_store
from ..store.responses import DuplicateSubmissionError, Submission, record_response
from . import security
from .db import get_db
from .forms.cases import callback_after_insert, with_callback_block
from .forms.public import answers_from, new_ticket, plain_answers, read_ticket
# The public form's cached pieces, keyed on the questionnaire revision: one questionnaire,
# one form, whichever door the citizen came through.
from .public import cached_form_class, fresh_form_html, question_hints

bp = Blueprint("evaluations", __name__)
TOKEN_MAX = 64
KIOSK_SOURCE, INVITATION_SOURCE = "web", "qr"


def _survey(token: str) -> dict:
    survey = survey_store.public_survey(get_db(), token)
    if survey is None:
        abort(404)
    return survey


def _message(survey: dict, title: str, message: str, status: int = 200, **page):
    return render_template("public/message.html", survey=survey, title=title, message=message,
                           **page), status


def _closed(survey: dict, **page):
    return _message(survey, "问卷暂未开放", "本次问卷调查不在收集时间内，感谢您的关注。", **page)


def _form_page(survey: dict, questions: list[dict], ticket: str, action: str, **page):
    fresh_html, offers_callback = fresh_form_html(get_db(), survey, questions)
    return render_template("public/form.html", survey=survey, questions=questions,
                           ticket=ticket, fresh_html=fresh_html, offers_callback=offers_callback,
                           action=action, hints=question_hints(get_db(), survey, questions), **page)


def _posted(survey: dict, questions: list[dict], action: str, **page):
    """(ticket, answers, after_insert hook), or (None, None, the form again with what to
    correct and what the citizen chose)."""
    db = get_db()
    posted_ticket = request.form.get("ticket", "")
    ticket = read_ticket(posted_ticket, survey["id"])
    if ticket and not (request.form.get("callback_phone") or request.form.get("callback_consent")):
        answers = plain_answers(questions, request.form)
        if answers is not None:
            return ticket, answers, None
    form_ = with_callback_block(cached_form_class(db, survey, questions), survey)(meta={
        "csrf_context": (posted_ticket if ticket else new_ticket(KIOSK_SOURCE, "", survey["id"]),
                         survey["id"])})
    if not form_.validate():
        return None, None, (render_template(
            "public/form.html", survey=survey, questions=questions, form=form_,
            has_errors=True, action=action, hints=question_hints(db, survey, questions), **page), 422)
    return ticket, answers_from(form_, questions), callback_after_insert(form_)


def _store(survey: dict, questions: list[dict], ticket: dict, answers: dict, after_insert,
           tag: window_store.AnswerTag) -> None:
    # No device and no address: a tablet's answers are not one person's repeats, and neither
    # they nor an invitation's (its token allows one answer) use up the hall's per-address
    # allowance that phones scanning the hall's posters share.
    submission = Submission(
        answers=answers, nonce=ticket["n"], source=ticket["s"], channel=tag.window,
        duration_seconds=max(0.0, round(time.time() - ticket["t"], 1)), tag=tag)
    try:
        record_response(get_db(), survey, questions, submission, after_insert=after_insert)
    except DuplicateSubmissionError:
        pass  # a double tap or a retry: the first submission stands


# --- one transaction's invitation -----------------------------------------------------------

def _invitation(token: str) -> tuple[dict, dict]:
    found = window_store.invitation_by_token(get_db(), token) if len(token) <= TOKEN_MAX else None
    if found is None:
        abort(404)
    return found, _survey(found["survey_token"])


def _refusal(invitation: dict, survey: dict):
    """The page for an invitation that cannot take an answer now, or None."""
    if invitation["response_id"] is not None:
        return _message(survey, "该笔业务已评价", str(window_store.InvitationAnsweredError()))
    if window_store.is_expired(invitation):
        return _message(survey, "评价链接已过期", str(window_store.InvitationExpiredError()))
    if not survey_store.is_accepting(survey):
        return _closed(survey)
    return None


def _refused_title(error: StoreError) -> str:
    if isinstance(error, window_store.InvitationAnsweredError):
        return "该笔业务已评价"
    if isinstance(error, window_store.InvitationExpiredError):
        return "评价链接已过期"
    return "未能保存评价"


def _invitation_page(invitation: dict) -> dict:
    return {"evaluation": invitation, "action": url_for("evaluations.invitation",
                                                        invitation_token=invitation["token"])}


@bp.get("/t/<invitation_token>")
def invitation(invitation_token):
    found, survey = _invitation(invitation_token)
    refusal = _refusal(found, survey)
    if refusal:
        return refusal
    questions = survey_store.public_questionnaire(get_db(), survey)
    ticket = new_ticket(INVITATION_SOURCE, found["window_name"], survey["id"], found["id"])
    response = current_app.make_response(_form_page(survey, questions, ticket,
                                                    **_invitation_page(found)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/t/<invitation_token>")
@security.csrf.exempt  # the form carries its own signed ticket (see forms.public)
def invitation_submit(invitation_token):
    found, survey = _invitation(invitation_token)
    refusal = _refusal(found, survey)
    if refusal:
        return refusal
    questions = survey_store.public_questionnaire(get_db(), survey)
    ticket, answers, after = _posted(survey, questions, **_invitation_page(found))
    if ticket is None:
        return after  # the form again, with what to correct
    tag = window_store.AnswerTag(window=found["window_name"], staff_code=found["staff_code"],
                                 invitation_id=found["id"])
    try:
        _store(survey, questions, ticket, answers, after, tag)
    except StoreError as error:  # answered or expired since the form was opened
        return _message(survey, _refused_title(error), str(error))
    return redirect(url_for("public.thanks", token=survey["token"]), 303)


# --- a window's tablet ----------------------------------------------------------------------

def _kiosk(token: str) -> tuple[dict, dict]:
    found = window_store.kiosk_by_token(get_db(), token) if len(token) <= TOKEN_MAX else None
    if found is None:
        abort(404)
    return found, _survey(found["survey_token"])


def _kiosk_page(kiosk: dict, pending: dict | None = None) -> dict:
    """What every tablet page adds: large type, no size switch, its window, and the reset."""
    return {"large_type": True, "kiosk": kiosk, "evaluation": pending,
            "action": url_for("evaluations.kiosk", kiosk_token=kiosk["token"]),
            "idle_seconds": current_app.config["KIOSK_IDLE_SECONDS"]}


def _pending(kiosk: dict) -> dict | None:
    return window_store.pending_for_window(get_db(), kiosk["survey_id"], kiosk["window_name"],
                                           current_app.config["KIOSK_PENDING_MINUTES"])


@bp.get("/k/<kiosk_token>")
def kiosk(kiosk_token):
    found, survey = _kiosk(kiosk_token)
    if not survey_store.is_accepting(survey):
        return _closed(survey, **_kiosk_page(found))
    pending = _pending(found)
    questions = survey_store.public_questionnaire(get_db(), survey)
    ticket = new_ticket(KIOSK_SOURCE, found["window_name"], survey["id"],
                        pending["id"] if pending else None)
    response = current_app.make_response(_form_page(survey, questions, ticket,
                                                     **_kiosk_page(found, pending)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _bound_invitation(kiosk: dict, ticket: dict) -> dict | None:
    """The transaction the tablet's form was showing, if it is one of this window's."""
    invitation_id = ticket.get("i")
    if type(invitation_id) is not int:
        return None
    found = window_store.invitation(get_db(), invitation_id)
    same_window = found and found["survey_id"] == kiosk["survey_id"] and \
        found["window_name"] == kiosk["window_name"]
    return found if same_window else None


@bp.post("/k/<kiosk_token>")
@security.csrf.exempt  # the form carries its own signed ticket (see forms.public)
def kiosk_submit(kiosk_token):
    found, survey = _kiosk(kiosk_token)
    page = _kiosk_page(found)
    if not survey_store.is_accepting(survey):
        return _closed(survey, **page)
    questions = survey_store.public_questionnaire(get_db(), survey)
    ticket, answers, after = _posted(survey, questions, **page)
    if ticket is None:
        return after  # the form again, with what to correct
    bound = _bound_invitation(found, ticket)
    tag = window_store.AnswerTag(window=found["window_name"], kiosk_id=found["id"],
                                 invitation_id=bound["id"] if bound else None,
                                 staff_code=bound["staff_code"] if bound else "")
    try:
        _store(survey, questions, ticket, answers, after, tag)
    except StoreError as error:  # the transaction was evaluated meanwhile, or has expired
        return _message(survey, _refused_title(error), str(error), refresh=page["action"],
                        refresh_seconds=current_app.config["KIOSK_THANKS_SECONDS"], **page)
    return redirect(url_for("evaluations.kiosk_thanks", kiosk_token=kiosk_token), 303)


@bp.get("/k/<kiosk_token>/thanks")
def kiosk_thanks(kiosk_token):
    found, survey = _kiosk(kiosk_token)
    return render_template("public/thanks.html", survey=survey,
                           refresh=url_for("evaluations.kiosk", kiosk_token=kiosk_token),
                           refresh_seconds=current_app.config["KIOSK_THANKS_SECONDS"],
                           **_kiosk_page(found))
