"""Domain errors shared by the core."""


class DomainError(Exception):
    """A domain rule was broken; the message (str of the error) is in Chinese, ready to show."""
