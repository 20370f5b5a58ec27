"""What goes out to a shop: price and stock rules, the published values, shop exports.

``settings`` reads the config's ``[pricing]``, ``[[pricing.rules]]``, ``[stock]``
and ``[targets.NAME]`` into rules; ``pricing`` turns a product and the rules
into its published price, stock and flags; ``targets`` holds each shop's
columns; ``exporting`` streams a target's file and its delta.

May import ``ingram.state``, ``ingram.models``, ``ingram.errors`` and
``ingram.files`` (the CSV cell rule); settings come in as values (never
``ingram.config``), and never ``ingram.api``, ``ingram.cli`` or ``ingram.output``.
"""
