"""The question editor: add, edit, reorder and delete questions and their options.

The store refuses changes that would alter answers already collected (see store/editor.py);
its Chinese message is shown next to the form, with what was typed kept."""
from flask import abort, flash, g, redirect, request, url_for

from ...core.conditions import hints as condition_hints
from ...core.errors import DomainError
from ...store import StoreError, editor, wording
from ...store import builder as store
from ...store import surveys as survey_store
from ..auth import login_required
from ..db import get_db
from ..forms.questions import (
    NewQuestionForm,
    OptionForm,
    QuestionForm,
    condition_data,
    condition_form_class,
    condition_gates,
    option_data,
)
from .base import bp, scoped_survey
from .builder import render_survey_page

REFUSED = (StoreError, DomainError)


def _scoped_question(survey: dict, question_id: int) -> dict:
    question = editor.get_question(get_db(), survey["id"], question_id)
    if question is None:
        abort(404)
    return question


def _scoped_option(question: dict, option_id: int) -> dict:
    for option in question["options"]:
        if option["id"] == option_id:
            return option
    abort(404)


def _list_page(survey: dict, form: NewQuestionForm, status: int = 200):
    db = get_db()
    questions = survey_store.questionnaire(db, survey["id"])
    answered = {q["id"] for q in questions if editor.question_answered(db, q["id"])}
    return render_survey_page("staff/survey_questions.html", survey, "questions", form=form,
                              questions=questions, answered=answered,
                              hints=condition_hints(questions),
                              locked=store.has_responses(db, survey["id"])), status


@bp.route("/surveys/<int:survey_id>/questions", methods=["GET", "POST"])
@login_required
def questions(survey_id):
    survey = scoped_survey(survey_id)
    # a new question on a survey with answers is stored optional: do not show it ticked
    form = NewQuestionForm(formdata=None, data={
        "kind": "scale", "required": not store.has_responses(get_db(), survey["id"])})
    if request.method == "POST":
        form = NewQuestionForm()
        if form.validate_on_submit():
            try:
                question_id = editor.add_question(get_db(), survey, form.draft())
            except REFUSED as error:
                form.kind.errors.append(str(error))
            else:
                flash("已新增题目。如只需在某题选了特定选项后才显示，请打开该题，在“显示条件”中设置。")
                return redirect(url_for("staff.questions", survey_id=survey_id,
                                        _anchor=f"q{question_id}"), 303)
        return _list_page(survey, form, 422)
    return _list_page(survey, form)


def _question_page(survey, question, form=None, option_forms=None, new_option=None,
                   status=200, condition_form=None):
    db = get_db()
    gates = condition_gates(survey_store.questionnaire(db, survey["id"]), question["id"])
    condition_form = condition_form or condition_form_class(gates)(
        formdata=None, prefix="c", data=condition_data(question))
    option_forms = option_forms or {}
    for option in question["options"]:
        option_forms.setdefault(option["id"], OptionForm(
            formdata=None, prefix=f"o{option['id']}", data=option_data(option)))
    form = form or QuestionForm(formdata=None, data={
        "kind": question["kind"], "text": question["text"], "required": bool(question["required"])})
    return render_survey_page(
        "staff/survey_question.html", survey, "questions", question=question, form=form,
        option_forms=option_forms, new_option=new_option or OptionForm(formdata=None, prefix="new"),
        answered=editor.question_answered(db, question["id"]),
        answer_count=wording.answer_count(db, question["id"]),
        answered_options=editor.answered_option_ids(db, question),
        locked=store.has_responses(db, survey["id"]),
        position=_position(db, survey["id"], question["id"]),
        condition_form=condition_form, gates=gates), status


def _position(db, survey_id: int, question_id: int) -> int:
    ids = [q["id"] for q in survey_store.questionnaire(db, survey_id)]
    return ids.index(question_id) + 1


def _back(survey_id: int, question_id: int):
    return redirect(url_for("staff.question", survey_id=survey_id, question_id=question_id), 303)


@bp.route("/surveys/<int:survey_id>/questions/<int:question_id>", methods=["GET", "POST"])
@login_required
def question(survey_id, question_id):
    survey = scoped_survey(survey_id)
    question = _scoped_question(survey, question_id)
    if request.method == "GET":
        return _question_page(survey, question)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            editor.update_question(get_db(), survey, question, text=form.text.data,
                                   kind=form.kind.data, required=form.required.data,
                                   user_id=g.user["id"])
        except REFUSED as error:
            form.kind.errors.append(str(error))
        else:
            flash("题目已保存。")
            return _back(survey_id, question_id)
    return _question_page(survey, question, form=form, status=422)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/condition")
@login_required
def question_condition(survey_id, question_id):
    """一事一评: ask this question only when an earlier choice question got given answers."""
    survey = scoped_survey(survey_id)
    question = _scoped_question(survey, question_id)
    gates = condition_gates(survey_store.questionnaire(get_db(), survey_id), question_id)
    form = condition_form_class(gates)(prefix="c")
    if form.validate_on_submit():
        try:
            editor.set_question_condition(get_db(), survey, question, *form.condition())
        except REFUSED as error:
            form.gate.errors.append(str(error))
        else:
            flash("显示条件已保存。")
            return _back(survey_id, question_id)
    return _question_page(survey, question, condition_form=form, status=422)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/delete")
@login_required
def delete_question(survey_id, question_id):
    survey = scoped_survey(survey_id)
    question = _scoped_question(survey, question_id)
    try:
        editor.delete_question(get_db(), survey, question)
    except REFUSED as error:
        flash(str(error))
        return _back(survey_id, question_id)
    flash("已删除题目。")
    return redirect(url_for("staff.questions", survey_id=survey_id), 303)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/move")
@login_required
def move_question(survey_id, question_id):
    survey = scoped_survey(survey_id)
    _scoped_question(survey, question_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400)
    try:
        editor.move_question(get_db(), survey_id, question_id, step)
    except REFUSED as error:
        flash(str(error))
    return redirect(url_for("staff.questions", survey_id=survey_id, _anchor=f"q{question_id}"),
                    303)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/options")
@login_required
def add_option(survey_id, question_id):
    survey = scoped_survey(survey_id)
    question = _scoped_question(survey, question_id)
    new_option = OptionForm(prefix="new")
    if new_option.validate_on_submit():
        try:
            editor.add_option(get_db(), survey, question, new_option.draft(), g.user["id"])
        except REFUSED as error:
            new_option.label.errors.append(str(error))
        else:
            flash("已新增选项。")
            return _back(survey_id, question_id)
    return _question_page(survey, question, new_option=new_option, status=422)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/options/<int:option_id>")
@login_required
def option(survey_id, question_id, option_id):
    survey = scoped_survey(survey_id)
    question = _scoped_question(survey, question_id)
    option = _scoped_option(question, option_id)
    form = OptionForm(prefix=f"o{option_id}")
    if form.validate_on_submit():
        try:
            editor.update_option(get_db(), survey, option, form.draft(), g.user["id"])
        except REFUSED as error:
            form.label.errors.append(str(error))
        else:
            flash("选项已保存。")
            return _back(survey_id, question_id)
    return _question_page(survey, question, option_forms={option_id: form}, status=422)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/options/<int:option_id>/delete")
@login_required
def delete_option(survey_id, question_id, option_id):
    survey = scoped_survey(survey_id)
    question = _scoped_question(survey, question_id)
    option = _scoped_option(question, option_id)
    try:
        editor.delete_option(get_db(), survey, question, option, g.user["id"])
    except REFUSED as error:
        flash(str(error))
    else:
        flash(f"已删除选项“{option['label']}”。")
    return _back(survey_id, question_id)
