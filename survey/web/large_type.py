"""大字版: the citizen's larger-type, higher-contrast view, chosen by a plain link.

The choice travels in the query string (`?large=1`), never in a cookie or script: WeChat's
in-app browser may drop cookies, and the form works without JavaScript. The form posts to a URL
that keeps the parameter, and the redirect to the thanks page keeps it too. The signed form
ticket is a hidden field and knows nothing of it.
"""
from flask import request, url_for

ARG = "large"
SWITCH = "switched"  # set by the switch link only: the reload is not a second form view


def active() -> bool:
    # Not args.get(): a missing key raises (and catches) BadRequestKeyError inside werkzeug,
    # on every citizen's request.
    return ARG in request.args and request.args[ARG] == "1"


def keep() -> dict:
    """URL arguments that keep the current choice on the next page."""
    return {ARG: "1"} if active() else {}


def switched() -> bool:
    return SWITCH in request.args


def switch_url() -> str:
    """The current page with the other size, its other arguments (via, ch) kept."""
    args = {k: v for k, v in request.args.items() if k not in (ARG, SWITCH)}
    if not active():
        args[ARG] = "1"
    args[SWITCH] = "1"
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app) -> None:
    @app.context_processor
    def _large_type():
        return {"large_type": active(), "large_type_keep": keep, "large_type_switch": switch_url}
