"""survey: satisfaction surveys for government departments, from QR code to self-evaluation score."""
from flask import Flask

from . import config, paths


def create_app(test_config=None):
    app = Flask(
        __name__,
        instance_path=str(paths.instance_path()),
        template_folder=str(paths.templates_dir()),
        static_folder=str(paths.static_dir()),
    )
    config.load(app, test_config)

    from . import db, errors, security
    from .api import bp as api_bp
    from .public import bp as public_bp
    from .staff import bp as staff_bp

    db.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(api_bp)
    return app
