"""Forms of the question editor: a new question, a question's wording and kind, one option."""
from wtforms import BooleanField, DecimalField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ...core.conditions import GATE_KINDS
from ...core.questionnaire import QUESTION_KINDS
from ...store.editor import OptionDraft, QuestionDraft
from . import CheckboxesField
from .builder import ChineseForm, finite
from .public import clean_text

QUESTION_MAX = 200
OPTION_MAX = 50
OPTIONS_MAX = 30
KIND_CHOICES = [SelectChoice(k, v) for k, v in QUESTION_KINDS.items()]


def _question_fields():
    kind = RadioField("题型", choices=KIND_CHOICES, validators=[InputRequired("请选择题型")])
    text = TextAreaField("题目", filters=[clean_text], validators=[
        DataRequired("请填写题目"), Length(max=QUESTION_MAX, message=f"题目最多 {QUESTION_MAX} 字")])
    required = BooleanField("必答")
    return kind, text, required


def option_lines(text: str | None) -> list[str]:
    """Options typed one per line; blank lines ignored."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class NewQuestionForm(ChineseForm):
    kind, text, required = _question_fields()
    options_text = TextAreaField("选项（每行一个，单选题和多选题填写）", filters=[clean_text])

    def validate_options_text(self, field):
        if self.kind.data not in ("single", "multiple"):
            return
        lines = option_lines(field.data)
        if len(lines) < 2:
            raise ValidationError("单选题和多选题至少需要两个选项，每行一个")
        if len(lines) > OPTIONS_MAX:
            raise ValidationError(f"选项最多 {OPTIONS_MAX} 个")
        if any(len(line) > OPTION_MAX for line in lines):
            raise ValidationError(f"每个选项最多 {OPTION_MAX} 字")
        if len(set(lines)) != len(lines):
            raise ValidationError("选项有重复，请检查")

    def draft(self) -> QuestionDraft:
        options = tuple(OptionDraft(label) for label in option_lines(self.options_text.data))
        return QuestionDraft(kind=self.kind.data, text=self.text.data,
                             required=self.required.data, options=options)


class QuestionForm(ChineseForm):
    kind, text, required = _question_fields()


class OptionForm(ChineseForm):
    label = StringField("选项文字", filters=[clean_text], validators=[
        DataRequired("请填写选项文字"), Length(max=OPTION_MAX, message=f"选项最多 {OPTION_MAX} 字")])
    value = DecimalField("分值", places=None, validators=[
        Optional(), finite, NumberRange(-1000, 1000, "分值应在 -1000 到 1000 之间")],
        invalid_value_message="分值须为数字，可留空")
    satisfied = BooleanField("计为满意")

    def draft(self) -> OptionDraft:
        value = self.value.data
        return OptionDraft(label=self.label.data, value=None if value is None else float(value),
                           satisfied=self.satisfied.data)


def option_data(option: dict) -> dict:
    value = option["value"]
    if value is not None and float(value).is_integer():
        value = int(value)
    return {"label": option["label"], "value": value, "satisfied": bool(option["satisfied"])}


ALWAYS = "always"  # the condition form's "no condition"


def condition_gates(questions: list[dict], question_id: int) -> list[dict]:
    """The questions a condition of `question_id` may rest on: earlier choice questions,
    each with its number."""
    gates = []
    for number, q in enumerate(questions, start=1):
        if q["id"] == question_id:
            break
        if q["kind"] in GATE_KINDS:
            gates.append({**q, "number": number})
    return gates


def condition_data(question: dict) -> dict:
    show_if = question["show_if"]
    if not show_if:
        return {"gate": ALWAYS}
    return {"gate": str(show_if["question_id"]), "option_ids": [str(i) for i in show_if["option_ids"]]}


def _id(value: str) -> int:
    """A posted id; anything else is 0, which names no question or option."""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else 0


def condition_form_class(gates: list[dict]):
    """The condition form: a gate (or none) and the gate's options that make the question
    apply; whether they fit together is core.conditions.check_condition's to say."""

    class ConditionForm(ChineseForm):
        gate = RadioField("显示条件", choices=[SelectChoice(ALWAYS, "始终显示（不设条件）")] + [
            SelectChoice(str(g["id"]), f"第 {g['number']} 题") for g in gates],
            # any value is core.conditions.check_condition's to judge, in its own words
            validators=[InputRequired("请选择是否设置显示条件")], validate_choice=False)
        option_ids = CheckboxesField("当答案为以下任一选项时显示", choices=[
            SelectChoice(str(o["id"]), o["label"]) for g in gates for o in g["options"]],
            validate_choice=False)

        def condition(self) -> tuple[int | None, list[int]]:
            if self.gate.data == ALWAYS:
                return None, []
            return _id(self.gate.data), [_id(v) for v in self.option_ids.data or []]

    return ConditionForm
