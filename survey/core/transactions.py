"""一事一评: the fields of a service transaction (办件) a window's system sends, checked once.

A reference (办件编号) comes from another system and is printed on a receipt: letters, digits
and a few separators only, so it can sit in a URL path and a QR code unquoted. A window name
is also the channel tag of the window's answers, so it obeys the channel tag's limit."""
import re
from dataclasses import dataclass

from .errors import DomainError
from .questionnaire import CHANNEL_MAX, clean_text

REFERENCE_MAX = 64
STAFF_CODE_MAX = 32
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class TransactionFieldError(DomainError):
    """A reference, window or staff code that cannot be stored as given."""


@dataclass(frozen=True)
class Transaction:
    reference: str
    window: str = ""
    staff_code: str = ""


def checked_reference(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a numeric 办件编号 sent as a JSON number
    reference = clean_text(value) if isinstance(value, str) else ""
    if not reference:
        raise TransactionFieldError("缺少办件编号（reference）")
    if len(reference) > REFERENCE_MAX or not _REFERENCE.fullmatch(reference):
        raise TransactionFieldError(
            f"办件编号只能由字母、数字和 . _ - 组成，以字母或数字开头，最多 {REFERENCE_MAX} 位")
    return reference


def checked_window(value) -> str:
    window = clean_text(value) if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise TransactionFieldError("窗口名称（window）应为文字")
    if len(window) > CHANNEL_MAX:
        raise TransactionFieldError(f"窗口名称最多 {CHANNEL_MAX} 个字")
    return window


def checked_staff_code(value) -> str:
    if value is not None and not isinstance(value, str):
        raise TransactionFieldError("工作人员工号（staff）应为文字")
    code = clean_text(value or "")
    if len(code) > STAFF_CODE_MAX:
        raise TransactionFieldError(f"工作人员工号最多 {STAFF_CODE_MAX} 位")
    return code


def transaction_from(reference, window=None, staff_code=None) -> Transaction:
    """The transaction a window's system describes; raises TransactionFieldError in Chinese."""
    return Transaction(checked_reference(reference), checked_window(window),
                       checked_staff_code(staff_code))
