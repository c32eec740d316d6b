"""Absolute public URLs, honouring BASE_URL for deployments behind a proxy."""
from urllib.parse import quote, urlencode

from flask import current_app, has_request_context, request

LOCAL_BASE = "http://127.0.0.1:8000"


def base_url() -> str:
    configured = current_app.config.get("BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return LOCAL_BASE  # the CLI, outside a request: `survey serve`'s default address


def public_url(token: str, channel: str = "", via_qr: bool = False) -> str:
    params = {}
    if via_qr:
        params["via"] = "qr"
    if channel:
        params["ch"] = channel
    query = ("?" + urlencode(params)) if params else ""
    return f"{base_url()}/s/{quote(token)}{query}"
