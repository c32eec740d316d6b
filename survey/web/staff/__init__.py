"""Staff pages: one blueprint, `bp`, defined in base.py. Every page module is listed here, and
importing it adds its routes to `bp`; nothing else registers a page."""
from . import (
    accounts,
    assessment_edit,
    assessments,
    builder,
    case_settings,
    cases,
    dashboard,
    io,
    posters,
    questions,
    windows,
)
from .base import bp

PAGES = (accounts, assessments, assessment_edit, builder, posters, questions, cases, case_settings,
         dashboard, io, windows)

__all__ = ["PAGES", "bp"]
