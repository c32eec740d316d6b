from survey.core.cases import CaseSettings
from survey.core.screening import ScreeningRules
from survey.core.settings import SurveySettings


def test_defaults_live_in_one_place():
    settings = SurveySettings.from_dict({})
    assert (settings.headline, settings.satisfied_levels, settings.value_preset) == ("question", 2, "linear")
    assert settings.headline_question_id is None and settings.population is None
    assert settings.screening_rules() == ScreeningRules.from_dict(None)
    assert settings.case_settings() == CaseSettings()


def test_round_trip_keeps_the_stored_keys_and_adds_changes():
    stored = {"satisfied_levels": 3, "headline_position": 2, "screening": {"min_seconds": 10}}
    settings = SurveySettings.from_dict(stored)
    assert settings.satisfied_levels == 3
    assert settings.to_dict() == stored
    assert settings.changed(population=5000).to_dict() == {**stored, "population": 5000}
