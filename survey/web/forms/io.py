"""Forms for data in and out: the paper import upload, quick paper entry, API tokens."""
import re
import secrets

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ...core.questionnaire import CHANNEL_MAX
from ...store.api_tokens import NAME_MAX
from .public import TEXT_MAX, clean_text

_NUMBERS = re.compile(r"[\s,，、;；]+")


class ImportForm(FlaskForm):
    file = FileField("纸质问卷文件（CSV 或 Excel .xlsx）",
                     validators=[FileRequired("请选择要导入的文件")])
    channel = StringField("渠道标签（可选）", filters=[clean_text],
                          validators=[Length(max=CHANNEL_MAX, message="渠道标签最多 40 个字")])


class ApiTokenForm(FlaskForm):
    name = StringField("用途", filters=[clean_text], validators=[
        InputRequired("请填写令牌用途，例如“财政局绩效系统”"),
        Length(max=NAME_MAX, message=f"用途说明最多 {NAME_MAX} 个字")])
    invite = BooleanField("允许创建一事一评评价邀请（invite 权限，供窗口业务/排队系统使用）")

    def scopes(self) -> tuple[str, ...]:
        return ("read", "invite") if self.invite.data else ("read",)


def option_numbers(q: dict, text: str) -> list[int]:
    """'1 3' -> option ids of options 1 and 3 (numbered from 1, as printed on paper)."""
    parts = [p for p in _NUMBERS.split(text or "") if p]
    if q["kind"] != "multiple" and len(parts) > 1:
        raise ValidationError("该题为单选题，只能填一个数字")
    count = len(q["options"])
    if not all(p.isdigit() and 1 <= int(p) <= count for p in parts):
        raise ValidationError(f"请输入 1–{count} 之间的数字" +
                              ("，多个选项用空格隔开" if q["kind"] == "multiple" else ""))
    return list(dict.fromkeys(q["options"][int(p) - 1]["id"] for p in parts))


class _Numbers:
    def __init__(self, question: dict):
        self.question = question

    def __call__(self, form, field):
        field.option_ids = option_numbers(self.question, field.data)


class EntryFormBase(FlaskForm):
    entry = HiddenField()  # one nonce per blank form: a double submit stores one questionnaire
    channel = StringField("渠道标签（可选）", filters=[clean_text],
                          validators=[Length(max=CHANNEL_MAX, message="渠道标签最多 40 个字")])
    incomplete_ok = BooleanField(
        "这份纸质问卷确有必答题未作答，仍然保存（计入回收，按有效性规则筛查）")

    def missing_required(self, questions: list[dict]) -> list[dict]:
        return [q for q in questions if q["required"] and not self.answer(q)]

    def answer(self, q: dict):
        field = self[f"q{q['id']}"]
        if q["kind"] == "text":
            return field.data or None
        return getattr(field, "option_ids", None) or None

    def answers(self, questions: list[dict]) -> dict:
        return {q["id"]: a for q in questions if (a := self.answer(q))}


def new_entry_nonce() -> str:
    return secrets.token_hex(16)


def entry_form_class(questions: list[dict]):
    """One short number field per choice question, a text area per text question."""

    class EntryForm(EntryFormBase):
        pass

    for q in questions:
        if q["kind"] == "text":
            field = TextAreaField(q["text"], filters=[clean_text], validators=[
                Optional(), Length(max=TEXT_MAX, message=f"请控制在 {TEXT_MAX} 字以内")])
        else:
            field = StringField(q["text"], filters=[clean_text],
                                validators=[Optional(), _Numbers(q)])
        setattr(EntryForm, f"q{q['id']}", field)
    return EntryForm
