"""Forms of the survey builder: new survey, copy, settings, 发放 batches, deletion, channels.

Question and option forms are in `forms/questions.py`. Times are entered as China local dates
and times and stored as ISO UTC.
"""
import datetime as dt

from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ...core.labels import CHINA_TZ
from ...core.questionnaire import CHANNEL_MAX, SATISFIED_LEVELS, SURVEY_TEMPLATES
from ...core.screening import ScreeningRules, ScreeningRulesError
from ...core.settings import SurveySettings
from ...store.builder import SettingsEdit
from ...store.surveys import DEDUPE_POLICIES
from . import ChineseForm
from .public import clean_text

TITLE_MAX = 100
INTRO_MAX = 1000
NOTE_MAX = 100
VALUE_PRESET_TEXT = {"linear": "线性：100 / 80 / 60 / 40 / 20",
                     "haocha": "好差评：100 / 80 / 60 / 30 / 0"}
HEADLINE_TEXT = {"question": "以“总体满意度”题的满意率为准",
                 "scale_mean": "以全部量表题满意率的平均值为准"}


def finite(form, field):
    """Decimal accepts 'NaN' and 'Infinity'; neither is a number of seconds or points."""
    if field.data is not None and not field.data.is_finite():
        raise ValidationError("请输入有效的数字")


def _choices(mapping: dict) -> list[SelectChoice]:
    return [SelectChoice(str(k), v) for k, v in mapping.items()]


def _year():
    return IntegerField("年度", validators=[Optional(), NumberRange(
        2000, 2100, "年度应在 2000 到 2100 之间")], invalid_value_message="请输入四位数年份")


def _title(label="问卷标题"):
    return StringField(label, filters=[clean_text], validators=[
        DataRequired("请填写问卷标题"), Length(max=TITLE_MAX, message=f"标题最多 {TITLE_MAX} 字")])


class NewSurveyForm(ChineseForm):
    template = RadioField("模板", choices=_choices(SURVEY_TEMPLATES), default="satisfaction-5",
                          validators=[InputRequired("请选择模板")])
    title = StringField("问卷标题", filters=[clean_text], validators=[
        Optional(), Length(max=TITLE_MAX, message=f"标题最多 {TITLE_MAX} 字")])
    year = _year()
    satisfied_levels = RadioField("满意口径", choices=_choices(SATISFIED_LEVELS), default="2",
                                  coerce=int, validators=[InputRequired("请选择满意口径")])
    value_preset = RadioField("满意度指数分值", choices=_choices(VALUE_PRESET_TEXT),
                              default="linear", validators=[InputRequired("请选择分值方案")])


class CopySurveyForm(ChineseForm):
    source = SelectField("复制哪份问卷", coerce=int, validate_choice=True,
                         validators=[InputRequired("请选择要复制的问卷")])
    title = _title("新问卷标题")
    year = _year()

    def set_sources(self, surveys: list[dict]) -> None:
        self.source.choices = [SelectChoice(s["id"], _source_label(s)) for s in surveys]


def _source_label(survey: dict) -> str:
    year = survey.get("year")
    year = f"{year} 年 · " if year and str(year) not in survey["title"] else ""
    return f"{year}{survey['title']}（回收 {survey.get('returned', 0)} 份）"


class ScaleSchemeForm(ChineseForm):
    satisfied_levels = RadioField("满意口径", choices=_choices(SATISFIED_LEVELS), coerce=int,
                                  validators=[InputRequired("请选择满意口径")])
    value_preset = RadioField("满意度指数分值", choices=_choices(VALUE_PRESET_TEXT),
                              validators=[InputRequired("请选择分值方案")])


def to_utc_iso(day: dt.date | None, time: dt.time | None, end_of_day: bool) -> str | None:
    """A China local date (and optional time) as ISO UTC; a closing date alone means its end."""
    if day is None:
        return None
    if time is None:
        time = dt.time(23, 59, 59) if end_of_day else dt.time(0, 0)
    local = dt.datetime.combine(day, time, tzinfo=CHINA_TZ)
    return local.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def from_utc_iso(value: str | None) -> tuple[dt.date | None, dt.time | None]:
    if not value:
        return None, None
    local = dt.datetime.fromisoformat(value).astimezone(CHINA_TZ)
    return local.date(), local.time().replace(second=0, microsecond=0)


class SettingsForm(ChineseForm):
    title = _title()
    intro = TextAreaField("答卷说明（显示在问卷开头）", filters=[clean_text], validators=[
        Length(max=INTRO_MAX, message=f"说明最多 {INTRO_MAX} 字")])
    year = _year()
    headline = RadioField("满意率口径", choices=_choices(HEADLINE_TEXT),
                          validators=[InputRequired("请选择满意率口径")])
    headline_question_id = SelectField("总体满意度题", validate_choice=False)
    require_complete = BooleanField("必答题未答完的答卷视为无效")
    min_seconds = DecimalField("最短答题用时（秒）", places=None, validators=[
        Optional(), finite, NumberRange(0, 3600, "请输入 0 到 3600 之间的秒数")],
        invalid_value_message="请输入数字（秒）")
    dedupe_device = BooleanField("同一设备重复提交的，仅第一份有效")
    straightlining = BooleanField("量表题全部选同一项的视为无效（至少 8 道量表题时生效）")
    dedupe_policy = RadioField("重复答卷", choices=_choices(DEDUPE_POLICIES),
                               validators=[InputRequired("请选择")])
    opens_date = DateField("开始日期", validators=[Optional()],
                           invalid_value_message="日期格式应为 2024-03-01")
    opens_time = TimeField("开始时间", validators=[Optional()],
                           invalid_value_message="时间格式应为 08:30")
    closes_date = DateField("截止日期", validators=[Optional()],
                            invalid_value_message="日期格式应为 2024-12-31")
    closes_time = TimeField("截止时间", validators=[Optional()],
                            invalid_value_message="时间格式应为 17:30")
    population = IntegerField("服务对象总数（可选，用于计算误差范围）", validators=[
        Optional(), NumberRange(1, 10**9, "请输入正整数")], invalid_value_message="请输入整数")

    def set_context(self, questions: list[dict], valid: int) -> None:
        """The scale questions to choose from (asked of everyone: a conditional one is not)
        and the valid count the population must cover."""
        self.headline_question_id.choices = [
            SelectChoice(str(q["id"]), f"第 {i} 题：{q['text']}")
            for i, q in enumerate(questions, start=1)
            if q["kind"] == "scale" and not q.get("show_if")]
        self._valid = valid

    def validate_headline_question_id(self, field):
        allowed = {c.value for c in field.choices}
        if field.data not in allowed and allowed:
            raise ValidationError("请选择一道满意度量表题（不能是带显示条件的题）")

    def validate_closes_date(self, field):
        opens = to_utc_iso(self.opens_date.data, self.opens_time.data, False)
        closes = to_utc_iso(field.data, self.closes_time.data, True)
        if opens and closes and closes <= opens:
            raise ValidationError("截止时间应晚于开始时间")

    def validate_population(self, field):
        if field.data is not None and field.data < getattr(self, "_valid", 0):
            raise ValidationError(f"总体人数不能少于已收到的有效问卷数（{self._valid} 份）")

    def settings(self) -> SettingsEdit:
        seconds = self.min_seconds.data
        rules = ScreeningRules(require_complete=self.require_complete.data,
                               min_seconds=None if seconds is None else float(seconds),
                               dedupe_device=self.dedupe_device.data,
                               straightlining=self.straightlining.data)
        question = self.headline_question_id.data
        return SettingsEdit(
            title=self.title.data, intro=self.intro.data or "", year=self.year.data,
            headline=self.headline.data,
            headline_question_id=int(question) if question else None,
            screening=rules.to_dict(), dedupe_policy=self.dedupe_policy.data,
            opens_at=to_utc_iso(self.opens_date.data, self.opens_time.data, False),
            closes_at=to_utc_iso(self.closes_date.data, self.closes_time.data, True),
            population=self.population.data)


def settings_data(survey: dict) -> dict:
    """The settings form's initial values from a stored survey."""
    settings = SurveySettings.of(survey)
    try:
        rules = settings.screening_rules()
    except ScreeningRulesError:
        rules = ScreeningRules()  # unreadable stored rules: offer the defaults to save over them
    opens_date, opens_time = from_utc_iso(survey["opens_at"])
    closes_date, closes_time = from_utc_iso(survey["closes_at"])
    question = settings.headline_question_id
    return {"title": survey["title"], "intro": survey["intro"], "year": survey["year"],
            "headline": settings.headline,
            "headline_question_id": str(question) if question else "",
            "require_complete": rules.require_complete, "min_seconds": _plain(rules.min_seconds),
            "dedupe_device": rules.dedupe_device, "straightlining": rules.straightlining,
            "dedupe_policy": survey["dedupe_policy"], "opens_date": opens_date,
            "opens_time": opens_time, "closes_date": closes_date, "closes_time": closes_time,
            "population": settings.population}


def _plain(number: float | None):
    """10.0 shows as 10 in the form; 7.5 stays 7.5."""
    return int(number) if number is not None and float(number).is_integer() else number


class IssuedForm(ChineseForm):
    count = IntegerField("发放份数", validators=[
        InputRequired("请填写发放份数"), NumberRange(1, 1_000_000, "发放份数须为 1 到 1000000 之间的整数")],
        invalid_value_message="请输入整数")
    note = StringField("备注（如批次、发放地点）", filters=[clean_text], validators=[
        Length(max=NOTE_MAX, message=f"备注最多 {NOTE_MAX} 字")])
    channel = SelectField("发放渠道", choices=[], validate_choice=True)

    WHOLE_SURVEY = "*"

    def set_channels(self, names: list[str]) -> None:
        """Choices: a tagged channel, answers with no tag, or the whole survey (not split)."""
        self.channel.choices = [(name, name) for name in names] + [
            ("", "未标注渠道（纸质录入、未带渠道标签的链接）"),
            (self.WHOLE_SURVEY, "全问卷（不分渠道，回收率将计入所有未单独登记的渠道）")]
        if self.channel.data is None:
            self.channel.data = names[0] if names else ""

    def channel_value(self) -> str | None:
        return None if self.channel.data == self.WHOLE_SURVEY else self.channel.data


class DeleteSurveyForm(ChineseForm):
    confirm_title = StringField("请输入问卷标题以确认删除", filters=[clean_text])

    def confirmed(self, survey: dict) -> bool:
        return (self.confirm_title.data or "") == survey["title"]


class ChannelForm(ChineseForm):
    name = StringField("渠道名称", filters=[clean_text], validators=[
        DataRequired("请填写渠道名称，如“窗口 3”或“大厅海报”"),
        Length(max=CHANNEL_MAX, message=f"渠道名称最多 {CHANNEL_MAX} 个字")])


def channel_arg(value: str | None) -> str | None:
    """A channel tag from a query string: cleaned, or None when too long to be one of ours."""
    value = clean_text(value or "")
    return value if len(value) <= CHANNEL_MAX else None
