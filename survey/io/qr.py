"""QR codes for a survey's public link, as SVG (print, posters) and PNG (downloads, chats).

Pure functions of the URL: the caller builds it with `urls.public_url(token, channel,
via_qr=True)`, so the code always carries the absolute address and the channel tag.
"""
import io

import segno

# Level Q survives about a quarter of the symbol being worn or covered: posters in a
# service hall get scuffed, taped over and photographed at an angle.
ERROR_LEVEL = "q"
QUIET_ZONE = 4  # modules of white margin the standard requires around the symbol
PNG_SCALE_MAX = 40


class QrFormatError(ValueError):
    """An output format or size the QR writers do not offer."""


def _code(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR_LEVEL, micro=False)


def qr_svg(url: str, title: str | None = None) -> bytes:
    """A scalable SVG (viewBox only, so it fills whatever box it is placed in)."""
    out = io.BytesIO()
    _code(url).save(out, kind="svg", border=QUIET_ZONE, dark="#000", light="#fff",
                    xmldecl=False, omitsize=True, title=title, nl=False)
    return out.getvalue()


def qr_png(url: str, scale: int = 10) -> bytes:
    """A PNG with `scale` pixels per module (1 to PNG_SCALE_MAX)."""
    if not 1 <= scale <= PNG_SCALE_MAX:
        raise QrFormatError(f"二维码每个模块的像素数须在 1 到 {PNG_SCALE_MAX} 之间")
    out = io.BytesIO()
    _code(url).save(out, kind="png", scale=scale, border=QUIET_ZONE, dark="#000", light="#fff")
    return out.getvalue()


def qr_kind(filename: str) -> str:
    """'svg' or 'png' from an output file name."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in ("svg", "png"):
        raise QrFormatError("输出文件名须以 .svg 或 .png 结尾")
    return suffix


# A 58 mm receipt printer prints 48 mm at 203 dpi: 384 dots. The receipt QR takes the
# largest whole number of dots per module that fits, so every module prints as a sharp square.
RECEIPT_DOTS = 384
RECEIPT_MM = 48


def receipt_png(url: str) -> bytes:
    """A PNG at most RECEIPT_DOTS wide for a receipt printer, quiet zone included."""
    size = _code(url).symbol_size(border=QUIET_ZONE)[0]
    return qr_png(url, max(1, min(PNG_SCALE_MAX, RECEIPT_DOTS // size)))


def receipt_svg(url: str) -> bytes:
    """An SVG sized RECEIPT_MM millimetres wide: the printable width of a 58 mm receipt."""
    code = _code(url)
    size = code.symbol_size(border=QUIET_ZONE)[0]
    out = io.BytesIO()
    code.save(out, kind="svg", border=QUIET_ZONE, dark="#000", light="#fff", xmldecl=False,
              unit="mm", scale=RECEIPT_MM / size, nl=False)
    return out.getvalue()


RECEIPT_KINDS = ("png", "svg")
