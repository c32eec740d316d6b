"""How responses travel: compressed text (flask-compress), and the site's icon.

Only text types are compressed: PNG, XLSX, ZIP and PDF are compressed formats already, and CSV
exports stream as they are written. A compressed response keeps a strong ETag of its own
(flask-compress appends the encoding) and still answers a matching If-None-Match with 304.
"""
from flask import send_from_directory
from flask_compress import Compress

COMPRESSED_TYPES = ["text/html", "text/css", "image/svg+xml", "application/javascript",
                    "text/javascript", "application/json"]
DEFAULTS = {
    "COMPRESS_MIMETYPES": COMPRESSED_TYPES,
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["br", "deflate"],  # static files are sent as streams
    "COMPRESS_MIN_SIZE": 500,
}
compress = Compress()


def init_app(app) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    compress.init_app(app)

    def _favicon():
        return send_from_directory(app.static_folder, "favicon.svg", mimetype="image/svg+xml",
                                   max_age=86400)

    app.add_url_rule("/favicon.ico", "favicon", _favicon)
