"""The Stock Update webhook receiver: a WSGI app, its spool and its single writer thread.

Ingram POSTs signed availability deltas; the app checks them, persists each
accepted event to a spool file before answering 2xx, and one writer thread
applies it to SQLite. It may import ``ingram.state``, ``ingram.models`` and
``ingram.errors`` (and waitress); never ``ingram.api``, ``ingram.cli`` or click.

Example (under any WSGI server, one process per database)::

    application = create_app("catalog.db", secret="...")
"""

from .app import StockWebhookApp, create_app
from .events import IgnoredTopic, parse_event
from .receiver import Receiver, spool_dir_for
from .rejection import EventRejected
from .signing import SignatureForm, authenticate, signature_of

__all__ = [
    "EventRejected",
    "IgnoredTopic",
    "Receiver",
    "SignatureForm",
    "StockWebhookApp",
    "authenticate",
    "create_app",
    "parse_event",
    "signature_of",
    "spool_dir_for",
]
