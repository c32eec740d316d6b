"""The fields of a transaction a window's system sends (core.transactions)."""
import pytest

from survey.core.transactions import TransactionFieldError, transaction_from


@pytest.mark.parametrize("reference, window, staff, expected", [
    ("BJ2026-0001", " 窗口 3 ", "A07", ("BJ2026-0001", "窗口 3", "A07")),
    (12345, None, None, ("12345", "", "")),
    ("a.b_c-d", "", "", ("a.b_c-d", "", "")),
])
def test_transactions_are_cleaned(reference, window, staff, expected):
    t = transaction_from(reference, window, staff)
    assert (t.reference, t.window, t.staff_code) == expected


@pytest.mark.parametrize("reference, window, staff, words", [
    (None, None, None, "缺少办件编号"), ("", "", "", "缺少办件编号"), (True, None, None, "缺少"),
    ("-x", None, None, "开头"), ("a/b", None, None, "字母"), ("办件1", None, None, "字母"),
    ("a" * 65, None, None, "64"), ("a", "窗" * 41, None, "40"), ("a", 3, None, "文字"),
    ("a", None, "x" * 33, "32"), ("a", None, ["A07"], "文字"),
])
def test_bad_fields_are_refused_in_chinese(reference, window, staff, words):
    with pytest.raises(TransactionFieldError, match=words):
        transaction_from(reference, window, staff)
