"""survey: satisfaction surveys for government departments, from QR code to self-evaluation score."""
from flask import Flask
from werkzeug.routing import IntegerConverter

from . import config, paths

SQLITE_MAX_INT = 2**63 - 1


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` bounded to what SQLite can store: a larger id is a 404, not an overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", SQLITE_MAX_INT)
        super().__init__(map, *args, **kwargs)


def create_app(test_config=None):
    app = Flask(
        __name__,
        instance_path=str(paths.instance_path()),
        template_folder=str(paths.templates_dir()),
        static_folder=str(paths.static_dir()),
    )
    config.load(app, test_config)
    app.url_map.converters["int"] = DatabaseIdConverter

    from .web import db, delivery, errors, large_type, security
    from .web.api import bp as api_bp
    from .web.evaluations import bp as evaluations_bp
    from .web.public import bp as public_bp
    from .web.staff import bp as staff_bp

    db.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    large_type.init_app(app)
    delivery.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(evaluations_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(api_bp)
    return app
