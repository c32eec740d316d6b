"""The scoring-rule editor: one set of fields per rule type of the engine (core.rules).

Rates are typed as a person writes them ("90%") or as a fraction ("0.9"); what was typed is
kept on an error. The rule is checked by the engine itself: its RuleError message, in Chinese,
is shown under the rule.
"""
from decimal import Decimal

from wtforms import FieldList, Form, FormField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from ...core.assessment.rules import TIERS, BandsRule, DeductionPerPointRule, ProportionalRule, rule_from_json
from ...core.assessment.values import RULE_TYPES, RuleError, fmt_number, to_decimal
from ...core.labels import percent

BAND_ROWS = 6
NO_RULE = ""
DIRECTION_TEXT = {">=": "不低于指标值（≥），未达到按比例计分", "<=": "不高于指标值（≤），超出按比例计分"}


def choices(mapping: dict) -> list[SelectChoice]:
    return [SelectChoice(str(key), label) for key, label in mapping.items()]


class InvalidParameter(Exception):
    """A parameter typed badly; its message is already on the field."""


def read_rate(field, required: bool = True) -> Decimal | None:
    """90% → 0.9; 0.9 → 0.9; a bare number above 1 is refused (was 90 meant as 90%?)."""
    text = (field.data or "").strip().replace("％", "%")
    if not text:
        if required:
            field.errors.append("请填写")
            raise InvalidParameter()
        return None
    try:
        value = to_decimal(text[:-1] if text.endswith("%") else text, "该参数")
    except RuleError as error:
        field.errors.append(str(error))
        raise InvalidParameter() from None
    if text.endswith("%"):
        return value / 100
    if abs(value) > 1:
        field.errors.append(f"“{text}”大于 1：百分数请加 % 号（如 {text}%），小数请写成如 0.9")
        raise InvalidParameter()
    return value


def read_points(field) -> Decimal:
    try:
        return to_decimal((field.data or "").strip(), "得分")
    except RuleError as error:
        field.errors.append(str(error))
        raise InvalidParameter() from None


def _number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


class SubForm(Form):
    """A row of a FieldList; WTForms' own messages in Chinese."""

    class Meta:
        locales = ["zh"]


class BandRow(SubForm):
    bound = StringField("界限", render_kw={"placeholder": "如 98%", "inputmode": "decimal"})
    kind = SelectField("得分方式", choices=choices({"score": "得分（分）", "fraction": "分值比例"}), default="score")
    value = StringField("得分", render_kw={"placeholder": "如 15 或 80%", "inputmode": "decimal"})


class RuleEditor:
    """Mixin for a FlaskForm: the rule type and the parameters of each type."""

    rule_type = SelectField("评分规则", choices=choices({NO_RULE: "不设评分规则（按填报得分计）",
                                                    **RULE_TYPES}), default=NO_RULE)
    prop_target = StringField("指标值（达标线）", render_kw={"placeholder": "如 90%"})
    prop_direction = SelectField("方向", choices=choices(DIRECTION_TEXT), default=">=")
    prop_over_form = SelectField("超出指标值后（仅“≤”）", choices=choices({
        "ratio": "得分 = 分值 × 指标值 / 实际值", "linear": "线性递减，达到指标值 2 倍时得 0 分"}),
        default="ratio")
    ded_allowance = StringField("允许值", render_kw={"placeholder": "如 0% 或 10%"})
    ded_per_point = StringField("每个百分点扣分值的", render_kw={"placeholder": "如 5%"})
    ded_direction = SelectField("扣分方向", choices=choices(DeductionPerPointRule.DIRECTIONS),
                                default="<=")
    ded_fraction = SelectField("不足 1 个百分点", choices=choices(DeductionPerPointRule.FRACTIONS),
                               default="pro_rata")
    bands_key = SelectField("档次界限", default="at_least", choices=choices({
        "at_least": "实际值不低于界限（≥），从高到低填写", "at_most": "实际值不高于界限（≤），从低到高填写"}))
    bands = FieldList(FormField(BandRow), min_entries=BAND_ROWS, max_entries=BAND_ROWS)
    qual_tier = SelectField("评定档次", choices=choices({k: v[0] for k, v in TIERS.items()}),
                            default="achieved")
    qual_fraction = StringField("得分比例（占分值）", render_kw={"placeholder": "如 90%"})

    def rule_json(self) -> dict | None:
        """The rule typed into the form, checked by the engine; None when no rule is chosen.

        Raises InvalidParameter after putting the message next to the field concerned."""
        kind = self.rule_type.data
        if kind == NO_RULE:
            return None
        data = {"type": kind, **getattr(self, f"_{kind}")()}
        try:
            rule_from_json(data)
        except RuleError as error:
            self.rule_type.errors = [*self.rule_type.errors, str(error)]
            raise InvalidParameter() from None
        return data

    def _proportional(self) -> dict:
        data = {"target": _number(read_rate(self.prop_target)), "direction": self.prop_direction.data}
        if data["direction"] == "<=":
            data["over_form"] = self.prop_over_form.data
        return data

    def _rate_times_weight(self) -> dict:
        return {}

    def _deduction_per_point(self) -> dict:
        return {"allowance": _number(read_rate(self.ded_allowance)),
                "per_point": _number(read_rate(self.ded_per_point)),
                "direction": self.ded_direction.data, "fraction": self.ded_fraction.data}

    def _bands(self) -> dict:
        key, bands, bad = self.bands_key.data, [], False
        for row in self.bands:
            if not (row.bound.data or "").strip() and not (row.value.data or "").strip():
                continue
            try:
                band = {key: _number(read_rate(row.bound))}
                amount = read_points(row.value) if row.kind.data == "score" else read_rate(row.value)
                band[row.kind.data] = _number(amount)
                bands.append(band)
            except InvalidParameter:
                bad = True
        if bad:
            raise InvalidParameter()
        return {"bands": bands}

    def _qualitative(self) -> dict:
        return {"tier": self.qual_tier.data, "fraction": _number(read_rate(self.qual_fraction))}

    def fill_rule(self, rule: dict | None) -> None:
        """Show a stored rule in the editor (rates as percentages)."""
        self.rule_type.data = rule["type"] if rule else NO_RULE
        if not rule:
            return
        parsed = rule_from_json(rule)
        if isinstance(parsed, ProportionalRule):
            self.prop_target.data = percent(parsed.target, None, trim=True)
            self.prop_direction.data, self.prop_over_form.data = parsed.direction, parsed.over_form
        elif isinstance(parsed, DeductionPerPointRule):
            self.ded_allowance.data = percent(parsed.allowance, None, trim=True)
            self.ded_per_point.data = percent(parsed.per_point, None, trim=True)
            self.ded_direction.data, self.ded_fraction.data = parsed.direction, parsed.fraction
        elif isinstance(parsed, BandsRule):
            self._fill_bands(parsed)
        elif rule["type"] == "qualitative":
            self.qual_tier.data = parsed.tier
            self.qual_fraction.data = percent(parsed.fraction, None, trim=True)

    def _fill_bands(self, rule: BandsRule) -> None:
        self.bands_key.data = rule.key
        for row, band in zip(self.bands, rule.bands[:BAND_ROWS], strict=False):
            row.bound.data = percent(band.bound, None, trim=True)
            if band.points is not None:
                row.kind.data, row.value.data = "score", fmt_number(band.points)
            else:
                row.kind.data, row.value.data = "fraction", percent(band.fraction, None, trim=True)
