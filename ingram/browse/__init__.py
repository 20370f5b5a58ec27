"""``ingram-sync browse``: the catalog in Datasette, read-only, described and charted.

- ``metadata``: a description of every table and column, units, facets and sort orders.
- ``queries``: the canned queries (out of stock, price moves, ...) and the dashboard's charts
  (datasette-dashboards draws them with the Vega-Lite it bundles: no CDN).
- ``plugin``: a Datasette plugin that shows money with its currency and stock with its unit.

May import ``ingram.browse``, ``ingram.state``, ``ingram.models``, ``ingram.vocab`` and
Datasette (the ``[browse]`` extra); never the client, the sync, the CLI or ``output``.
"""
