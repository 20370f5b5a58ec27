"""The catalog mirrored into PostgreSQL or MySQL/MariaDB: tables ``ingram_*``, incremental.

``schema`` (the target's tables), ``sql`` (one batch, written as differences),
``target`` (the URL and its engine), ``running`` (the batches of one mirror).
May import ``ingram.state``, ``ingram.models`` and ``ingram.errors`` (and
SQLAlchemy); never ``ingram.api`` or ``ingram.cli``.

Example::

    result = mirror(store, MirrorTarget.parse("postgresql://shop@db/shop", password="..."))
    print(result.written.products, "products written")
"""

from ingram.publish.mirror.running import BATCH, MirrorFailed, MirrorResult, mirror
from ingram.publish.mirror.target import MirrorTarget

__all__ = ["BATCH", "MirrorFailed", "MirrorResult", "MirrorTarget", "mirror"]
