"""Ingram's price file: its layouts, fetching it over FTP, FTPS or SFTP, loading the catalog.

``layouts`` and ``europe`` know the file shapes and check every line; ``reader``
opens a ZIP or text file and detects its layout; ``fetch`` downloads it whole
(resuming, never handing over a partial file); ``loading`` stages and swaps it into
the ``catalog`` table, and ``tracked`` says what it changes for tracked products;
``choosing`` searches the catalog and picks products to track.

This part may import ``ingram.state``, ``ingram.models``, ``ingram.errors`` and
``ingram.files``; never the API client, the output or the command line.
"""
