"""A fake Ingram Micro Reseller API v6 on loopback, for tests, demos and benchmarks.

It never imports the client: the two must agree only through the wire, the
same way the real client and the real vendor do.
"""

from .catalog import Catalog
from .runner import build_arg_parser, serve_forever, settings_from_args, settings_from_options
from .server import SandboxServer
from .settings import FAULT_NAMES, FaultRates, SandboxSettings

__all__ = [
    "FAULT_NAMES",
    "Catalog",
    "FaultRates",
    "SandboxServer",
    "SandboxSettings",
    "build_arg_parser",
    "serve_forever",
    "settings_from_args",
    "settings_from_options",
]
