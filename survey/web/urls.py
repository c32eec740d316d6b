"""Absolute public URLs, honouring BASE_URL for deployments behind a proxy."""
import ipaddress
from urllib.parse import quote, urlencode, urlsplit

from flask import current_app, has_request_context, request

LOCAL_BASE = "http://127.0.0.1:8000"


def base_url() -> str:
    configured = current_app.config.get("BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return LOCAL_BASE  # the CLI, outside a request: `survey serve`'s default address


def served_base_url(host: str, port: int) -> str:
    """Where `survey serve --host H --port P` will answer, for links printed before it runs:
    the configured BASE_URL when there is one. A wildcard host is reachable on this machine
    as 127.0.0.1."""
    configured = current_app.config.get("BASE_URL")
    if configured:
        return configured.rstrip("/")
    wildcard = host in ("", "0.0.0.0")  # nosec B104 - a comparison, binds nothing
    host = "127.0.0.1" if wildcard else "[::1]" if host == "::" else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def public_url(token: str, channel: str = "", via_qr: bool = False) -> str:
    params = {}
    if via_qr:
        params["via"] = "qr"
    if channel:
        params["ch"] = channel
    query = ("?" + urlencode(params)) if params else ""
    return f"{base_url()}/s/{quote(token)}{query}"


def invitation_url(token: str) -> str:
    """一事一评: the link of one transaction's invitation (evaluations.invitation)."""
    return f"{base_url()}/t/{quote(token)}"


def kiosk_url(token: str) -> str:
    """A window tablet's address (evaluations.kiosk)."""
    return f"{base_url()}/k/{quote(token)}"


def loopback_warning(what: str = "此二维码") -> str | None:
    """A plain warning when QR codes would point at this machine's loopback address (no
    BASE_URL configured and the page opened as 127.0.0.1 / localhost / ::1): phones scanning
    them reach nothing. None when the address is reachable from elsewhere. `what` names what
points there (a QR code, a tablet's address, an invitation link)."""
    if current_app.config.get("BASE_URL"):
        return None
    host = (urlsplit(base_url()).hostname or "").rstrip(".").lower()
    if host != "localhost" and not host.endswith(".localhost"):
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return None
        except ValueError:
            return None
    return (f"{what}指向本机地址 {host}，手机和平板无法打开。请设置 SURVEY_BASE_URL=http://<本机局域网地址>:端口，"
            "或以 survey serve --host 0.0.0.0 启动后用局域网地址访问本页。")
