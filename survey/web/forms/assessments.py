"""Forms of the assessment workspace: new assessment, settings, an indicator (with its rule),
the budget block, the 年度履职目标 block, explanations, finalising and reopening."""
from decimal import Decimal

from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ...core.assessment.budget import AMOUNT_FIELDS, BudgetError, BudgetLine, parse_amount
from ...core.assessment.tree import AssessmentError, grade_bands_from_json
from ...core.assessment.values import RuleError, parse_weight, to_decimal
from ...core.assessment.vocabulary import BUDGET_FIGURES, COMPARISONS, SURVEY_FIGURES
from . import ChineseForm
from .assessment_rules import InvalidParameter, RuleEditor, SubForm, choices
from .public import clean_text

NAME_MAX, TEXT_MAX = 100, 4000


def _year(default=None):
    return IntegerField("年度", default=default, validators=[
        InputRequired("请填写年度"), NumberRange(2000, 2100, "年度应在 2000 到 2100 之间")],
        invalid_value_message="请输入四位数年份")


def _title():
    return StringField("自评名称", filters=[clean_text], validators=[
        InputRequired("请填写自评名称"), Length(max=NAME_MAX, message=f"最多 {NAME_MAX} 字")])


class NewAssessmentForm(ChineseForm):
    year = _year()
    title = _title()
    origin = SelectField("从哪里开始", validators=[InputRequired("请选择模板或往年自评")])


def bands_text(bands: list[dict]) -> str:
    return "；".join(f"{band['grade']} {Decimal(str(band['at_least'])).normalize():f}" for band in bands)


class SettingsForm(ChineseForm):
    title = _title()
    year = _year()
    grade_bands = StringField("评价等级分数线", filters=[clean_text], description=(
        "从高到低，每档“等级 分数线”，用分号隔开；默认为财政部统一标准：优 90；良 80；中 60；差 0"))

    def bands_json(self) -> list[dict] | None:
        try:
            pairs = [part.split() for part in self.grade_bands.data.replace(";", "；").split("；")
                     if part.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise AssessmentError("每档须写成“等级 分数线”，如“优 90”")
            bands = [{"grade": grade, "at_least": float(to_decimal(line, "分数线"))}
                     for grade, line in pairs]
            grade_bands_from_json(bands)
        except (AssessmentError, RuleError) as error:
            self.grade_bands.errors.append(str(error))
            return None
        return bands


def _text(label, maximum=TEXT_MAX, **kwargs):
    return TextAreaField(label, filters=[clean_text], validators=[
        Optional(), Length(max=maximum, message=f"最多 {maximum} 字")], **kwargs)


class IndicatorForm(ChineseForm, RuleEditor):
    name = StringField("指标名称", filters=[clean_text], validators=[
        InputRequired("请填写指标名称"), Length(max=NAME_MAX, message=f"最多 {NAME_MAX} 字")])
    weight = StringField("分值", render_kw={"inputmode": "decimal"})
    comparison = SelectField("指标值", choices=choices(COMPARISONS), default="word")
    target = StringField("指标值", filters=[clean_text], validators=[Length(max=NAME_MAX)],
                         render_kw={"placeholder": "如 90% 或 合理"})
    description = _text("指标说明")
    actual = StringField("实际完成值", filters=[clean_text], validators=[Length(max=NAME_MAX)],
                         render_kw={"placeholder": "如 96% 或 达成"})
    score = StringField("填报得分", render_kw={"inputmode": "decimal"}, description=(
        "留空则按评分规则计算；填写后以填报得分为准，与评分规则不一致时列为问题"))
    notes = _text("未完成原因分析及改进措施")
    link = SelectField("实际完成值来源", default="")
    figure = SelectField("问卷数值", choices=choices(SURVEY_FIGURES), default="satisfaction_rate")

    def set_surveys(self, surveys: list[dict]) -> None:
        self.link.choices = choices({
            "": "手工填写", **{f"budget:{k}": f"预算执行情况表：{v}" for k, v in BUDGET_FIGURES.items()},
            **{f"survey:{s['id']}": f"问卷：{s['title']}" + ("（已归档）" if s.get("archived_at") else "")
               for s in surveys}})

    def changes(self, leaf: bool) -> dict | None:
        """The stored values this form gives, or None (messages on the fields) when invalid."""
        weight = self._decimal(self.weight, parse_weight, required=True)
        values = {"name": self.name.data, "weight": weight, "description": self.description.data or ""}
        if not leaf:
            return None if self._has_errors() else values
        score = self._decimal(self.score, parse_weight, required=False)
        try:
            rule, rule_ok = self.rule_json(), True
        except InvalidParameter:  # its message is on the field (maybe inside a band row)
            rule, rule_ok = None, False
        values.update({
            "comparison": self.comparison.data, "target": self.target.data or "",
            "actual": self.actual.data or None, "score": score, "notes": self.notes.data or "",
            "rule": rule, **self._link()})
        return values if rule_ok and not self._has_errors() else None

    def _decimal(self, field, parse, required: bool) -> str | None:
        text = (field.data or "").strip()
        if not text:
            if required:
                field.errors.append("请填写分值")
            return None
        try:
            return format(parse(text).normalize(), "f")
        except RuleError as error:
            field.errors.append(str(error))
            return None

    def _link(self) -> dict:
        kind, _, ref = (self.link.data or "").partition(":")
        if kind == "budget":
            return {"survey_id": None, "figure": ref}
        if kind == "survey":
            return {"survey_id": int(ref), "figure": self.figure.data}
        return {"survey_id": None, "figure": None}

    def _has_errors(self) -> bool:
        return any(field.errors for field in self)

    def fill(self, row: dict) -> None:
        for key in ("name", "weight", "comparison", "target", "description", "actual", "score", "notes"):
            getattr(self, key).data = row[key]
        if row["figure"] in BUDGET_FIGURES:
            self.link.data = f"budget:{row['figure']}"
        elif row["survey_id"]:
            self.link.data, self.figure.data = f"survey:{row['survey_id']}", row["figure"]
        self.fill_rule(row["rule"])


class ActualForm(ChineseForm):
    """The quick edit of one actual, in the workspace table."""

    actual = StringField("实际完成值", filters=[clean_text], validators=[
        Length(max=NAME_MAX, message=f"最多 {NAME_MAX} 字")])


class AddIndicatorForm(ChineseForm):
    parent_id = HiddenField()
    name = StringField("指标名称", filters=[clean_text], validators=[
        InputRequired("请填写指标名称"), Length(max=NAME_MAX, message=f"最多 {NAME_MAX} 字")])
    weight = StringField("分值", default="0", render_kw={"inputmode": "decimal"})

    def weight_text(self) -> str | None:
        try:
            return format(parse_weight((self.weight.data or "").strip()).normalize(), "f")
        except RuleError as error:
            self.weight.errors.append(str(error))
            return None


class BudgetRow(SubForm):
    source = StringField("资金来源", filters=[clean_text], validators=[Length(max=NAME_MAX)])
    initial = StringField("年初数", render_kw={"inputmode": "decimal"})
    full_year = StringField("全年数", render_kw={"inputmode": "decimal"})
    executed = StringField("全年执行数", render_kw={"inputmode": "decimal"})


class BudgetForm(ChineseForm):
    lines = FieldList(FormField(BudgetRow), min_entries=1, max_entries=12)

    def budget_lines(self) -> list[BudgetLine] | None:
        lines, bad = [], False
        for row in self.lines:
            amounts = {}
            for field in AMOUNT_FIELDS:
                try:
                    amounts[field] = parse_amount(row[field].data, AMOUNT_FIELDS[field])
                except BudgetError as error:
                    row[field].errors.append(str(error))
                    bad = True
            if not row.source.data:
                if any(value is not None for value in amounts.values()):
                    row.source.errors.append("请填写资金来源")
                    bad = True
                continue
            lines.append(BudgetLine(row.source.data, **amounts))
        return None if bad else lines


class GoalRow(SubForm):
    name = StringField("名称", filters=[clean_text], validators=[Length(max=NAME_MAX)])
    content = TextAreaField("主要内容", filters=[clean_text], validators=[Length(max=TEXT_MAX)])
    result = TextAreaField("完成情况", filters=[clean_text], validators=[Length(max=TEXT_MAX)])


class GoalsForm(ChineseForm):
    goals = FieldList(FormField(GoalRow), min_entries=1, max_entries=30)
    tasks = FieldList(FormField(GoalRow), min_entries=1, max_entries=30)

    def block(self) -> dict:
        def items(rows):
            return [{"name": r.data["name"], "content": r.data["content"], "result": r.data["result"]}
                    for r in rows if any((r.data[key] or "").strip() for key in ("name", "content", "result"))]
        return {"goals": items(self.goals), "tasks": items(self.tasks)}


class ExplainForm(ChineseForm):
    finding = HiddenField(validators=[InputRequired()])
    explanation = _text("说明", maximum=1000)


class FinaliseForm(ChineseForm):
    acknowledge = BooleanField("我已知悉尚有未说明的问题，仍要定稿")


class ReopenForm(ChineseForm):
    reason = StringField("重新打开的原因", filters=[clean_text], validators=[
        InputRequired("请填写重新打开的原因"), Length(max=200, message="最多 200 字")])
