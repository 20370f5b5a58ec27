"""SQLite state: the store, its migrations, saving results, history queries and the sync lock.

SQL only. May import ``ingram.models`` and ``ingram.errors``; never ``ingram.api``,
requests, ``ingram.cli`` or click.
"""
