"""The citizen's questionnaire form, built at run time from the survey's questions.

CSRF here is stateless: the token is a signed form ticket (nonce, start time, channel, survey),
so the form still works when the in-app browser refuses cookies; the nonce then also stops
double submissions, and the survey id stops a ticket from one survey serving another.
"""
import secrets
import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import RadioField, TextAreaField
from wtforms.csrf.core import CSRF
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, StopValidation, ValidationError

from ...core.conditions import applicable_answers, applies
from ...core.questionnaire import TEXT_MAX as TEXT_MAX  # one limit for typed answers
from ...core.questionnaire import clean_text as clean_text  # the filter every form uses
from . import CheckboxesField, ChineseForm

TICKET_MAX_AGE = 7 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    key = current_app.secret_key
    found = current_app.extensions.get("survey_ticket_serializer")
    if found is None or found[0] != key:
        found = (key, URLSafeTimedSerializer(key, salt="survey-form-ticket"))
        current_app.extensions["survey_ticket_serializer"] = found
    return found[1]


def new_ticket(source: str, channel: str, survey_id: int, invitation_id: int | None = None
               ) -> str:
    """A signed ticket for one survey's form: another survey refuses it. A window tablet's
    form for a transaction names its invitation ("i"), which the answer is then bound to."""
    data = {"n": secrets.token_urlsafe(16), "t": time.time(), "s": source, "c": channel,
            "v": survey_id}
    if invitation_id is not None:
        data["i"] = invitation_id
    return _serializer().dumps(data)


def read_ticket(ticket: str, survey_id: int) -> dict | None:
    """The ticket's content, or None when it is forged, expired or issued for another survey
    (an older ticket, without its survey, included)."""
    try:
        data = _serializer().loads(ticket, max_age=TICKET_MAX_AGE)
    except (BadSignature, TypeError, ValueError):
        return None
    ok = isinstance(data, dict) and all(k in data for k in "ntsc") and \
        type(data.get("v")) is int and data["v"] == survey_id
    return data if ok else None


class TicketCSRF(CSRF):
    """The form's csrf_context is (ticket to show, survey id the posted ticket must name)."""

    def setup_form(self, form):
        self.ticket, self.survey_id = form.meta.csrf_context
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field):
        return self.ticket

    def validate_csrf_token(self, form, field):
        if not field.data or read_ticket(field.data, self.survey_id) is None:
            raise ValidationError("页面已过期，请刷新后重新填写提交。")


NOT_OFFERED = "请从列出的选项中选择。"


class _ChoiceRequired(InputRequired):
    def __call__(self, form, field):
        if not field.raw_data or not any(field.raw_data):
            raise StopValidation(self.message)


class _OneChoiceField(RadioField):
    """A single choice whose only message for a skipped question is the required one:
    WTForms' own check would add "不是有效的选择" before it."""

    def pre_validate(self, form):
        if not self.raw_data or not any(self.raw_data):
            return
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(NOT_OFFERED) from None


def response_form_class(questions: list[dict]):
    """A FlaskForm subclass with one field per question, named q<id>."""

    class ResponseForm(ChineseForm):
        class Meta:
            csrf_class = TicketCSRF
            csrf_field_name = "ticket"

        def validate(self, extra_validators=None):
            valid = super().validate(extra_validators)
            return _settle_conditions(self, questions) and valid

    for q in questions:
        setattr(ResponseForm, f"q{q['id']}", _field(q))
    return ResponseForm


_MISSING = {"text": "请填写此题。", "multiple": "请至少选择一项。"}


def _posted(field, kind: str):
    """A field's answer in the shape of `answers_from` (None when unanswered)."""
    data = field.data
    if not data:
        return None
    if kind == "text":
        return data
    return [int(v) for v in data] if kind == "multiple" else [int(data)]


def _settle_conditions(form, questions: list[dict]) -> bool:
    """A conditional question that did not apply loses its errors (it was never asked; its
    answer is left out by answers_from); one that applied is required when marked so. In questionnaire
    order, so a question resting on another conditional question sees its settled answer."""
    given, ok = {}, True
    for q in questions:
        field = form[f"q{q['id']}"]
        if not applies(q, given):
            if field.errors:  # what cannot be read is dropped; the rest stays on the page
                field.data = [] if q["kind"] == "multiple" else None
            field.errors = []
            continue
        if not field.errors:
            answer = _posted(field, q["kind"])
            if answer is not None:
                given[q["id"]] = answer
            # as InputRequired and _ChoiceRequired judge it: on what was posted
            if q.get("show_if") and q["required"] and not any(field.raw_data or ()):
                field.errors = [_MISSING.get(q["kind"], "请选择一项。")]
        ok = ok and not field.errors
    return ok


def _field(q: dict):
    choices = [SelectChoice(str(o["id"]), o["label"]) for o in q["options"]]
    # A conditional question's "required" holds only when it applies: _settle_conditions.
    required_here = q["required"] and not q.get("show_if")
    if q["kind"] == "text":
        return TextAreaField(q["text"], filters=[clean_text], validators=[
            (InputRequired("请填写此题。") if required_here else Optional()),
            Length(max=TEXT_MAX, message=f"请控制在 {TEXT_MAX} 字以内。")])
    required = [_ChoiceRequired("请选择一项。" if q["kind"] != "multiple" else "请至少选择一项。")]
    validators = required if required_here else [Optional()]
    if q["kind"] == "multiple":
        return CheckboxesField(q["text"], choices=choices, validators=validators,
                               validate_choice=True, invalid_message=NOT_OFFERED)
    return _OneChoiceField(q["text"], choices=choices, validators=validators, validate_choice=True)


def answers_from(form, questions: list[dict]) -> dict:
    """question_id -> list of option ids, or text; unanswered questions, and conditional
    questions that did not apply, left out."""
    answers = {}
    for q in questions:
        data = form[f"q{q['id']}"].data
        if q["kind"] == "text":
            if data:
                answers[q["id"]] = data
        elif q["kind"] == "multiple":
            if data:
                answers[q["id"]] = [int(v) for v in data]
        elif data:
            answers[q["id"]] = [int(data)]
    return applicable_answers(questions, answers)


def plain_answers(questions: list[dict], formdata) -> dict | None:
    """The answers of a submission WTForms would accept as it stands, read straight from the
    posted fields, or None when anything is unusual (a missing required answer, an unknown
    option, a duplicate, an over-long text, several values for one choice...). None only
    means "let the WTForms form decide and explain": when this gives answers, they are exactly
    what `answers_from(validated form)` gives (tests/web/test_public.py compares the two).
    The ticket and the call-back fields are the caller's to check."""
    answers = {}
    for q in questions:
        if not applies(q, answers):
            continue  # never asked: whatever was posted for it is ignored
        raw = formdata.getlist(f"q{q['id']}")
        kind = q["kind"]
        if kind == "text":
            if not raw or not raw[0] or not raw[0].strip():
                if q["required"] and not (raw and raw[0]):
                    return None
                continue  # blank: stored as no answer (WTForms: Optional, or cleaned to "")
            text = clean_text(raw[0])
            if len(text) > TEXT_MAX:
                return None
            if text:
                answers[q["id"]] = text
            continue
        if not raw:
            if q["required"]:
                return None
            continue
        if kind != "multiple" and len(raw) != 1:
            return None
        if len(set(raw)) != len(raw):
            return None
        ids = {str(o["id"]): o["id"] for o in q["options"]}
        chosen = [ids.get(value) for value in raw]
        if None in chosen:
            return None
        answers[q["id"]] = chosen
    return answers
