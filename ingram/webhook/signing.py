"""The signature of a Stock Update event, checked before the body is parsed.

Ingram signs the event id only: ``x-hub-signature`` is HMAC-SHA512(secret, eventId), both
as UTF-8, sent base64-encoded or, as the portal's sample allows ("Can either base64 encode
or put it right into hex"), in hex. So the receiver reads the event id out of the raw
body with one bounded pattern, checks the signature against it, and parses the JSON only
for a request that passed: an unsigned request never reaches the JSON parser.

Example::

    event_id, form = authenticate(secret, body, headers["x-hub-signature"])
    # form is SignatureForm.BASE64 or SignatureForm.HEX; EventRejected(400/401) otherwise
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from enum import StrEnum

from ingram.webhook.rejection import EventRejected

MAX_EVENT_ID = 200
# The first "eventId" key of the body and its value: a JSON string (escapes allowed) or a
# whole number. Bounded: a longer id cannot be a valid one, so the pattern never scans far.
EVENT_ID = re.compile(
    rb'"eventId"\s*:\s*("(?:[^"\\]|\\.){0,%d}"|-?[0-9]{1,%d}(?![0-9.eE]))'
    % (MAX_EVENT_ID * 6, MAX_EVENT_ID)
)
HEX_DIGEST = re.compile(r"[0-9A-Fa-f]{128}")


class SignatureForm(StrEnum):
    """How the sender encoded the HMAC: both are Ingram's (the portal's sample)."""

    BASE64 = "base64"
    HEX = "hex"


def signature_of(secret: str, event_id: str, form: SignatureForm = SignatureForm.BASE64) -> str:
    """The ``x-hub-signature`` Ingram sends for ``event_id``, in ``form``."""
    digest = hmac.new(secret.encode("utf-8"), event_id.encode("utf-8"), hashlib.sha512).digest()
    return digest.hex() if form is SignatureForm.HEX else base64.b64encode(digest).decode("ascii")


def event_id_text(value: object) -> str | None:
    """A body's ``eventId`` as the text that is signed: a string, or a whole number's digits.

    None when it cannot be one: empty, too long, or not valid Unicode (a lone surrogate
    escape such as ``\\ud800`` has no UTF-8 form to sign).
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    if not text.strip() or len(text) > MAX_EVENT_ID or not text.isprintable():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text


def find_event_id(body: bytes) -> str:
    """The event id of a raw body, without parsing the rest of it (``EventRejected(400)``)."""
    match = EVENT_ID.search(body)
    if match is None:
        raise EventRejected(400, "no eventId in the body (a short string or a whole number)")
    try:
        value = json.loads(match[1])
    except ValueError:  # also a UnicodeDecodeError: bytes that are not UTF-8
        raise EventRejected(400, "eventId is not readable text") from None
    text = event_id_text(value)
    if text is None:
        raise EventRejected(400, "eventId is empty, too long or not valid Unicode")
    return text


def signature_form(secret: str, event_id: str, header: str) -> SignatureForm | None:
    """Which encoding of the right HMAC ``header`` holds, or None: compared in constant time.

    Decoding the header depends only on what the sender sent; the comparison with the
    expected digest never stops early, so response timing tells a forger nothing.
    """
    expected = hmac.new(secret.encode("utf-8"), event_id.encode("utf-8"), hashlib.sha512).digest()
    # WSGI hands headers over as latin-1 text; any bytes decode, none raise.
    sent = header.strip()
    if HEX_DIGEST.fullmatch(sent):
        return SignatureForm.HEX if hmac.compare_digest(expected, bytes.fromhex(sent)) else None
    try:
        decoded = base64.b64decode(sent.encode("latin-1", "replace"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return SignatureForm.BASE64 if hmac.compare_digest(expected, decoded) else None


def authenticate(secret: str, body: bytes, header: str) -> tuple[str, SignatureForm]:
    """The event id ``header`` signs, and its form; ``EventRejected`` (400, 401) otherwise."""
    if not header.strip():
        raise EventRejected(401, "no x-hub-signature header")
    event_id = find_event_id(body)
    form = signature_form(secret, event_id, header)
    if form is None:
        raise EventRejected(401, f"bad signature for event {event_id[:64]!r}")
    return event_id, form
