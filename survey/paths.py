"""Where templates, static files and the instance folder live.

In a wheel, templates/ and static/ are packaged inside survey/; in a source checkout
(editable install) they sit at the top level beside pyproject.toml.
"""
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def _packaged_or_top_level(name: str) -> Path:
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PROJECT_DIR / name


def templates_dir() -> Path:
    return _packaged_or_top_level("templates")


def static_dir() -> Path:
    return _packaged_or_top_level("static")


def instance_path() -> Path:
    override = os.environ.get("SURVEY_INSTANCE_PATH")
    if override:
        return Path(override).resolve()
    if (PROJECT_DIR / "pyproject.toml").is_file():
        return PROJECT_DIR / "instance"
    return Path.cwd() / "instance"
