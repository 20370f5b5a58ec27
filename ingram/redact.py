"""Secrets out of every text we show: the client secret and tokens in any encoding.

Example::

    forms = forms_of(secret, token)
    mask_secrets(f"refused {secret}", forms)  # "refused ***"
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote, quote_plus

MASK = "***"
PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")
SHORTEST_FORM = 6  # shorter pieces of an encoded secret would mask ordinary text


def secret_forms(secret: str) -> list[str]:
    """Every form in which ``secret`` can come back: as is, URL-encoded (both quoting
    styles, either hex case), JSON-escaped and base64 (standard and URL-safe, at any
    offset inside a longer encoded text). Longest first, so masking one never leaves
    a piece of another.
    """
    if not secret:
        return []
    forms = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret, safe="")}
    forms |= {PERCENT_ESCAPE.sub(lambda m: m[0].lower(), form) for form in forms}
    forms |= {json.dumps(secret)[1:-1], json.dumps(secret)[1:-1].replace("/", "\\/")}
    for text in list(forms):  # base64 of the secret, or of a form or JSON that quoted it
        forms |= base64_forms(text.encode())
    return sorted((f for f in forms if len(f) >= SHORTEST_FORM), key=len, reverse=True)


def base64_forms(raw: bytes) -> set[str]:
    """``raw`` in base64, whole and as the run of characters it gives at any offset."""
    forms = {base64.b64encode(raw).decode()}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        start = (shift * 4 + 2) // 3  # characters that also carry bits of what came before
        forms.add(encoded[start : (shift + len(raw)) // 3 * 4])  # and only whole groups after
    return forms | {form.replace("+", "-").replace("/", "_") for form in forms}


def mask_secrets(text: str, forms: list[str]) -> str:
    """``text`` with every one of ``forms`` (see ``secret_forms``) replaced by ``***``."""
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


def forms_of(*secrets: str) -> list[str]:
    """Every encoded form of ``secrets``, longest first (see ``secret_forms``)."""
    forms = {form for secret in secrets for form in secret_forms(secret)}
    return sorted(forms, key=len, reverse=True)
