"""The ``ingram-sync`` command line: click commands only, which parse, call the library, print.

The one package that imports click. It may import every other part of ``ingram``;
nothing outside it imports it.
"""

from ingram.cli.app import cli, main

__all__ = ["cli", "main"]
