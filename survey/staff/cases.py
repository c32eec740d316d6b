"""Staff pages: cases."""
from . import bp  # noqa: F401
