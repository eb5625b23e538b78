"""Kazakh individual (IIN) and business (BIN) identification numbers.

Both are 12 digits whose last digit is a check digit: the first 11 digits are
weighted 1..11 and summed mod 11; a result of 10 means a second pass with weights
3..11,1,2; 10 again means the number is invalid (no such number is ever issued).
"""

from __future__ import annotations

import datetime as dt

_FIRST_WEIGHTS = tuple(range(1, 12))
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def check_digit(first11: str) -> int | None:
    """The check digit for 11 leading digits, or None when no valid one exists."""
    digits = [int(c) for c in first11]
    for weights in (_FIRST_WEIGHTS, _SECOND_WEIGHTS):
        value = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if value != 10:
            return value
    return None


def has_valid_checksum(number: str) -> bool:
    """True when ``number`` is 12 digits with a correct check digit."""
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return False
    return check_digit(number[:11]) == int(number[11])


def iin_birth_date(iin: str) -> dt.date | None:
    """Date of birth encoded in an IIN (YYMMDD + century digit), None if impossible.

    The 7th digit gives century and sex: 1-2 the 19th, 3-4 the 20th, 5-6 the 21st.
    """
    century_digit = iin[6]
    if century_digit not in "123456":
        return None
    century = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}[century_digit]
    try:
        return dt.date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None


def mask(number: str | None) -> str:
    """An identifier safe for logs: the first two and last two digits only."""
    if not number:
        return ""
    return number[:2] + "*" * max(len(number) - 4, 0) + number[-2:]
