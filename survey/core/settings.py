"""A survey's settings (surveys.settings, stored as JSON): one typed, frozen object.

`SurveySettings.from_dict(stored)` is the one place that reads the stored keys and where their
defaults live; everything else reads attributes. `to_dict()` gives back the stored form: the
keys it was read from (unknown keys kept as they were) plus any field that was changed."""
from dataclasses import dataclass, field, fields, replace

from .cases import CaseSettings
from .screening import ScreeningRules


@dataclass(frozen=True)
class SurveySettings:
    headline: str = "question"  # which satisfaction rate is the headline (see figures.HEADLINES)
    headline_question_id: int | None = None
    satisfied_levels: int = 2  # the top two or three scale levels count as satisfied
    value_preset: str = "linear"  # the points each scale level is worth
    population: int | None = None  # for the margin of error; None when unknown
    screening: dict | None = None  # ScreeningRules' stored form
    cases: dict | None = None  # CaseSettings' stored form
    stored: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict | None) -> "SurveySettings":
        data = dict(data or {})
        known = {f.name for f in fields(cls)} - {"stored"}
        return cls(**{k: v for k, v in data.items() if k in known}, stored=data)

    def to_dict(self) -> dict:
        out = dict(self.stored)
        for f in fields(self):
            if f.name == "stored":
                continue
            value = getattr(self, f.name)
            if f.name in self.stored or value != f.default:
                out[f.name] = value
        return out

    def changed(self, **changes) -> "SurveySettings":
        return replace(self, **changes)

    def screening_rules(self) -> ScreeningRules:
        """The validity rules; raises ScreeningRulesError for unreadable stored rules."""
        return ScreeningRules.from_dict(self.screening)

    def case_settings(self) -> CaseSettings:
        """Follow-up case settings with their defaults (CaseSettings.effective)."""
        return CaseSettings.effective(self.cases)

    @classmethod
    def of(cls, survey: dict) -> "SurveySettings":
        """The settings of a survey row as the store returns it."""
        return cls.from_dict(survey["settings"])
