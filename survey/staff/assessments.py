"""Staff pages: assessments."""
from . import bp  # noqa: F401
