"""Forms of the 一事一评 windows page: a window's tablet, a window's case assignee."""
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ...core.questionnaire import CHANNEL_MAX
from . import ChineseForm
from .public import clean_text

_WINDOW_REQUIRED = "请填写窗口名称，如“窗口 3”"
_WINDOW_LENGTH = f"窗口名称最多 {CHANNEL_MAX} 个字"


class KioskForm(ChineseForm):
    window = StringField("窗口名称", filters=[clean_text], validators=[
        DataRequired(_WINDOW_REQUIRED), Length(max=CHANNEL_MAX, message=_WINDOW_LENGTH)])


class AssigneeForm(ChineseForm):
    window = StringField("窗口名称", filters=[clean_text], validators=[
        DataRequired(_WINDOW_REQUIRED), Length(max=CHANNEL_MAX, message=_WINDOW_LENGTH)])
    assignee = SelectField("差评案件承办人", coerce=int, validate_choice=True)

    def set_users(self, users: list[dict]) -> "AssigneeForm":
        self.assignee.choices = [(0, "不指派（由管理员分派）")] + [
            (u["id"], u["username"]) for u in users if u["active"]]
        return self
