"""The vendor's JSON, read strictly: one decoder and the field readers every parser uses.

A value that is not what the schema allows raises ``MalformedResponse`` naming
the field; the parsers decide whether that costs the item or only the field.
Money is ``Decimal`` from the first byte (``loads`` reads floats as Decimal).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ingram.errors import MalformedResponse

MAX_MONEY = Decimal("1e12")  # no price of a product reaches a trillion
MIN_MONEY_EXPONENT = -10  # more than 10 decimal places is not a price
MAX_QUANTITY = 10**12
MAX_DEPTH = 64  # the vendor's documents nest about 5 deep
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def malformed(what: str) -> MalformedResponse:
    return MalformedResponse(f"unexpected answer from the Ingram API: {what}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def loads(body: bytes | str) -> Any:
    """Decode a JSON body: floats as ``Decimal``; NaN, Infinity and junk raise MalformedResponse."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError, TypeError) as exc:
        raise malformed(f"not JSON ({type(exc).__name__})") from None


def first_of(obj: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` present with a non-null value (key case varies)."""
    for key in keys:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def as_text(value: Any, field: str) -> str | None:
    """A string field; numbers become their text (a UPC sent as a number); empty -> None."""
    if type(value) is str:  # the common case first: one check, no isinstance chain
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        raise malformed(f"{field} is a boolean")
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int):
        if abs(value) >= 10**40:
            raise malformed(f"{field} is an absurd number")
        return str(value)
    if isinstance(value, (Decimal, float)):
        number = as_decimal(value, field)
        if number == number.to_integral_value():
            return str(int(number))
        return str(number)
    raise malformed(f"{field} is a {type(value).__name__}, not text")


def as_decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**40:
            raise malformed(f"{field} is an absurd number")
        number = Decimal(value)
    else:
        raise malformed(f"{field} is a {type(value).__name__}, not a number")
    # adjusted() needs no arithmetic context: abs() of 1e1000000 would raise decimal.Overflow.
    if not number.is_finite() or number.adjusted() >= 40:
        raise malformed(f"{field} is not a finite number")
    return number


def as_money(value: Any, field: str) -> Decimal | None:
    """A price: a JSON number (or numeric text), finite, 0 or more, below a trillion, at most
    10 decimals. A negative price is no price a reseller can use: the item is malformed."""
    if type(value) is Decimal and value.is_finite():  # what ``loads`` gives: the checks inline
        exponent = value.as_tuple().exponent
        if 0 <= value < MAX_MONEY and exponent >= MIN_MONEY_EXPONENT:  # type: ignore[operator]
            return value  # anything else takes the general path below, which says why
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise malformed(f"{field} is not a number") from None
    number = as_decimal(value, field)
    exponent = number.as_tuple().exponent
    if abs(number) >= MAX_MONEY or (isinstance(exponent, int) and exponent < MIN_MONEY_EXPONENT):
        raise malformed(f"{field} is out of range")
    if number < 0:
        raise malformed(f"{field} is negative")
    return number


def as_quantity(value: Any, field: str) -> int | None:
    """A count: an integer (or integral number or digits as text) below 10**12 in size."""
    if type(value) is int and -MAX_QUANTITY < value < MAX_QUANTITY:  # the common case (no bool)
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise malformed(f"{field} is a boolean")
    if isinstance(value, str):
        text = value.strip()
        if not _INTEGER.fullmatch(text):
            raise malformed(f"{field} is not a whole number")
        value = int(text)
    if not isinstance(value, int):
        number = as_decimal(value, field)
        if number != number.to_integral_value():
            raise malformed(f"{field} is not a whole number")
        value = int(number)
    if abs(value) >= MAX_QUANTITY:
        raise malformed(f"{field} is out of range")
    return value


def stock_count(value: Any, field: str, odd: list[str]) -> int | None:
    """A count of stock; a negative one says nothing true about the shelf: unknown (None),
    its field named in ``odd``."""
    count = as_quantity(value, field)
    if count is not None and count < 0:
        odd.append(field)
        return None
    return count


def as_flag(value: Any, field: str) -> bool | None:
    """A boolean sent as true/false or as the text "True"/"False"."""
    if value is True or value is False:
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise malformed(f"{field} is not a boolean")


def as_mapping(value: Any, field: str) -> Mapping[str, Any] | None:
    if value is None or type(value) is dict:
        return value
    if not isinstance(value, Mapping):
        raise malformed(f"{field} is a {type(value).__name__}, not an object")
    return value


def as_array(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list and not isinstance(value, list):
        raise malformed(f"{field} is a {type(value).__name__}, not a list")
    return value


def plain_json(value: Any, depth: int = 0) -> Any:
    """A copy with Decimals made plain numbers, so the raw document dumps as JSON."""
    if depth > MAX_DEPTH:
        raise malformed("the document is nested too deeply")
    if isinstance(value, Mapping):
        return {str(k): plain_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v, depth + 1) for v in value]
    if isinstance(value, (Decimal, float)):
        number = as_decimal(value, "a number")
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:
            return int(number)
        as_float = float(number)
        if not math.isfinite(as_float):
            raise malformed("a number is out of range")
        return as_float
    if value is None or isinstance(value, (str, bool, int)):
        return value
    raise malformed(f"a {type(value).__name__} in the document")
