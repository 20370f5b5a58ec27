"""Talking to Ingram Micro: the client, HTTP sessions, rate limiting and answer parsing.

HTTP and JSON only. May import ``ingram.models`` and ``ingram.errors``; never
``ingram.state``, ``ingram.output``, ``ingram.cli`` or click.
"""
