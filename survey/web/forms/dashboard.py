"""Dashboard forms: the GET filter (date range, channel, source, text search) and the manual
validity decision."""
import datetime as dt

from wtforms import Form, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from ...core.labels import SOURCE_NAMES
from ...store.tallies import TallyFilter
from . import ChineseForm

ALL = SelectChoice("", "全部")
REASON_MAX = 200


def parse_day(text: str) -> str:
    """'2026-3-1' or '2026-03-01' -> '2026-03-01'; ValueError with a Chinese message."""
    try:
        year, month, day = (int(part) for part in text.strip().split("-"))
        return dt.date(year, month, day).isoformat()
    except (TypeError, ValueError):
        raise ValueError("日期格式应为“年-月-日”，例如 2026-03-01") from None


def _day(form, field) -> None:
    if field.data:
        try:
            field.data = parse_day(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None


def _check_choice(field) -> None:
    if field.data is not None and field.data not in {c.value for c in field.choices}:
        raise ValidationError("请从列表中选择")


class ChoiceField(SelectField):
    """A select whose invalid-choice message is in Chinese."""

    def pre_validate(self, form):
        _check_choice(self)


class ChoiceRadioField(RadioField):
    def pre_validate(self, form):
        _check_choice(self)


class DashboardFilterForm(Form):
    """Read from the query string (no CSRF: it changes nothing)."""
    day_from = StringField("开始日期", validators=[_day])
    day_to = StringField("结束日期", validators=[_day])
    channel = ChoiceField("渠道", default="")
    source = ChoiceField("来源", default="", choices=[ALL] + [
        SelectChoice(value, label) for value, label in SOURCE_NAMES.items()])
    q = StringField("搜索意见建议", validators=[Length(max=100, message="搜索词最多 100 个字")])

    def __init__(self, formdata, channels: list[str]):
        super().__init__(formdata)
        self.channel.choices = [ALL] + [SelectChoice(c, c) for c in channels if c]

    def validate_day_to(self, field) -> None:
        start = self.day_from.data
        if field.data and start and not self.day_from.errors and field.data < start:
            raise ValidationError("结束日期不能早于开始日期")

    def tally_filter(self) -> TallyFilter:
        """The filter made of the fields that passed validation; a bad field is ignored."""
        def good(field):
            return None if field.errors or not field.data else field.data
        return TallyFilter(day_from=good(self.day_from), day_to=good(self.day_to),
                           channel=good(self.channel), source=good(self.source))

    def search(self) -> str:
        return "" if self.q.errors else (self.q.data or "").strip()

    def summary(self) -> str:
        """The active filter in words ('' when none), shown above the figures."""
        flt = self.tally_filter()
        parts = []
        if flt.day_from or flt.day_to:
            parts.append(f"{flt.day_from or '最早'} 至 {flt.day_to or '今天'}")
        if flt.channel:
            parts.append(f"渠道“{flt.channel}”")
        if flt.source:
            parts.append(f"来源：{SOURCE_NAMES[flt.source]}")
        return " · ".join(parts)

    def args(self) -> dict:
        """The filter as query arguments, for links that keep it (charts, pages)."""
        flt = self.tally_filter()
        pairs = {"day_from": flt.day_from, "day_to": flt.day_to, "channel": flt.channel,
                 "source": flt.source}
        return {k: v for k, v in pairs.items() if v}


class ValidityDecisionForm(ChineseForm):
    valid = ChoiceRadioField("判定结果", choices=[SelectChoice("1", "有效"), SelectChoice("0", "无效")],
                       validators=[InputRequired("请选择判定结果")])
    reason = TextAreaField("判定理由", validators=[
        InputRequired("请填写判定理由"),
        Length(max=REASON_MAX, message=f"判定理由最多 {REASON_MAX} 个字")])

    def validate_reason(self, field) -> None:
        if not (field.data or "").strip():
            raise ValidationError("请填写判定理由")
