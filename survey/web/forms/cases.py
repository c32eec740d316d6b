"""Forms for follow-up cases: the citizen's optional call-back block, each step staff take,
the survey's case settings and the department's working-day overrides."""
import re

from flask import current_app
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ...core.cases import APPEAL_KINDS, DEFAULT_LEVELS, callback_consent_text
from ...core.figures import SCALE_LABELS
from ...core.settings import SurveySettings
from ...core.workdays import MAX_WORKING_DAYS
from . import CheckboxesField, ChineseForm
from .public import clean_text

TEXT_MAX = 2000
_SEPARATORS = re.compile(r"[\s\-()（）]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}\d{7,8}")


def normalise_phone(value: str) -> str | None:
    """A mainland mobile or landline number without separators, or None if it is not one."""
    digits = _SEPARATORS.sub("", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return digits
    return None


def with_callback_block(form_class, survey: dict):
    """The public form, plus the optional call-back fields when the survey offers them."""
    settings = SurveySettings.of(survey).case_settings()
    if not (settings.enabled and settings.callback):
        return form_class
    consent = callback_consent_text(survey["department_name"],
                                    current_app.config["CALLBACK_RETENTION_DAYS"])

    class WithCallback(form_class):
        callback_phone = StringField("回访电话（选填）", filters=[clean_text],
                                     validators=[Optional(), Length(max=30, message="电话号码过长")])
        callback_consent = BooleanField(consent)

        def validate_callback_phone(self, field):
            if field.data and normalise_phone(field.data) is None:
                raise ValidationError("请填写正确的手机号码（11 位）或带区号的固定电话")
            if field.data and not self.callback_consent.data:
                raise ValidationError("如需回访，请勾选下方的同意说明；不需要回访请清空电话号码")

        def validate_callback_consent(self, field):
            if field.data and not self.callback_phone.data:
                raise ValidationError("您已同意回访，请填写电话号码；不需要回访请取消勾选")

    WithCallback.consent_text = consent
    WithCallback.case_levels = settings.levels
    return WithCallback


def callback_after_insert(form):
    """The after_insert hook that keeps a consented number with the new case, or None."""
    phone_field = getattr(form, "callback_phone", None)
    if phone_field is None or not phone_field.data or not form.callback_consent.data:
        return None
    from ...store.cases import attach_contact
    phone, consent = normalise_phone(phone_field.data), form.consent_text
    days = current_app.config["CALLBACK_RETENTION_DAYS"]
    return lambda db, response_id, verdict: attach_contact(db, response_id, phone, consent, days)


class _Form(ChineseForm):
    class Meta:
        locales = ("zh",)  # WTForms' own messages (invalid choice, date, number) in Chinese


def _text(label: str, required: bool = True):
    first = DataRequired("请填写此项") if required else Optional()
    return TextAreaField(label, filters=[clean_text], validators=[
        first, Length(max=TEXT_MAX, message=f"请控制在 {TEXT_MAX} 字以内")])


class AssignForm(_Form):
    assignee_id = SelectField("承办人", coerce=int, validate_choice=True)
    text = _text("说明（选填）", required=False)


class CallbackForm(_Form):
    text = _text("回访情况（联系时间、群众意见、是否满意答复等）")


class CauseForm(_Form):
    text = _text("原因核实")


class RectifyForm(_Form):
    text = _text("整改措施")


class ReplyForm(_Form):
    text = _text("答复内容")


class CloseForm(_Form):
    text = _text("办结说明（选填）", required=False)


class AppealForm(_Form):
    appeal_kind = SelectField("申诉类型", choices=[SelectChoice(k, v)
                                               for k, v in APPEAL_KINDS.items()])
    text = _text("申诉理由（核实情况、证据）")


class ConfirmAppealForm(_Form):
    text = _text("确认意见（选填）", required=False)


class RejectAppealForm(_Form):
    text = _text("驳回理由")


STEP_FORMS = {"assign": AssignForm, "callback": CallbackForm, "cause": CauseForm,
              "rectify": RectifyForm, "reply": ReplyForm, "close": CloseForm,
              "appeal": AppealForm, "confirm_appeal": ConfirmAppealForm,
              "reject_appeal": RejectAppealForm}


# WTForms has no Chinese for an invalid choice.
INVALID_CHOICE = "所选项目无效，请刷新页面后重新选择"


class CaseSettingsForm(_Form):
    enabled = BooleanField("开启差评自动立案")
    levels = CheckboxesField("哪些评价等级立案", choices=[SelectChoice(x, x) for x in SCALE_LABELS],
                             default=list(DEFAULT_LEVELS), invalid_message=INVALID_CHOICE)
    all_questions = BooleanField("全部量表题（不勾选则只看下面选中的题目）")
    question_ids = CheckboxesField("立案题目", coerce=int, choices=[], invalid_message=INVALID_CHOICE)
    due_working_days = IntegerField("办理时限（工作日）", validators=[
        InputRequired("请填写办理时限"),
        NumberRange(1, MAX_WORKING_DAYS, f"请填写 1 到 {MAX_WORKING_DAYS} 之间的整数")])
    callback = BooleanField("在问卷末尾提供“留电话回访”（须群众勾选同意）")

    def validate_levels(self, field):
        if self.enabled.data and not field.data:
            raise ValidationError("请至少选择一个立案等级")

    def validate_question_ids(self, field):
        if self.enabled.data and not self.all_questions.data and not field.data:
            raise ValidationError("请至少选择一道题目，或勾选“全部量表题”")


class WorkdayOverrideForm(_Form):
    day = DateField("日期", validators=[InputRequired("请选择日期")])
    is_workday = SelectField("安排", choices=[SelectChoice("0", "休息（不计工作日）"),
                                             SelectChoice("1", "上班（计为工作日）")])
    note = StringField("说明", validators=[Optional(), Length(max=100, message="说明请控制在 100 字以内")])
