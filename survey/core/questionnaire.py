"""Questionnaire templates and their settings, as plain data."""
import json
import re
from importlib import resources

from .definition import DefinitionError, build_questions, definition_problems
from .errors import DomainError
from .figures import SCALE_LABELS, VALUE_PRESETS

SURVEY_TEMPLATES = {"satisfaction-5": "群众满意度调查（5 级量表）", "blank": "空白问卷"}
QUESTION_KINDS = {"scale": "满意度量表（5 级）", "single": "单选题", "multiple": "多选题",
                  "text": "填空/意见建议"}
SATISFIED_LEVELS = {2: "前两级（非常满意、满意）计为满意", 3: "前三级（非常满意、满意、基本满意）计为满意"}

TEXT_MAX = 1000  # a typed answer, on the phone or from a paper questionnaire
CHANNEL_MAX = 40  # a channel tag (窗口 3, 大厅海报) in a link or an import
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value):
    """Typed text without control characters or surrounding blanks; other values unchanged."""
    return _CONTROL.sub("", value).strip() if isinstance(value, str) else value


class TemplateError(DomainError):
    pass


def scale_options(satisfied_levels: int = 2, value_preset: str = "linear") -> list[dict]:
    if satisfied_levels not in SATISFIED_LEVELS:
        raise TemplateError("满意口径只能是前两级或前三级")
    if value_preset not in VALUE_PRESETS:
        raise TemplateError(f"未知的分值方案：{value_preset}")
    values = VALUE_PRESETS[value_preset]
    return [
        {"label": label, "value": float(values[i]), "satisfied": i < satisfied_levels}
        for i, label in enumerate(SCALE_LABELS)
    ]


def load_survey_template(name: str, satisfied_levels: int = 2,
                         value_preset: str = "linear") -> dict:
    """The template as a questionnaire: title, intro, settings, questions with options."""
    if name not in SURVEY_TEMPLATES:
        raise TemplateError(f"未知的问卷模板：{name}")
    raw = json.loads(
        resources.files("survey.data").joinpath("survey-templates", f"{name}.json")
        .read_text(encoding="utf-8")
    )
    return from_definition(raw, satisfied_levels, value_preset)


def from_definition(raw, satisfied_levels: int = 2, value_preset: str = "linear") -> dict:
    """A definition (a template's or a file's, see core.definition) as a questionnaire;
    DefinitionError lists every mistake."""
    problems = definition_problems(raw)
    if problems:
        raise DefinitionError(problems)
    settings = {"satisfied_levels": satisfied_levels, "value_preset": value_preset,
                "headline": raw.get("headline", "question"),
                "headline_position": raw.get("headline_position")}
    return {"title": raw.get("title", ""), "intro": raw.get("intro", ""), "settings": settings,
            "questions": build_questions(raw, scale_options(satisfied_levels, value_preset))}
