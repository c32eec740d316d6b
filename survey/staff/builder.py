"""Staff pages: builder."""
from . import bp  # noqa: F401
