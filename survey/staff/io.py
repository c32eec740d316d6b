"""Staff pages: io."""
from . import bp  # noqa: F401
