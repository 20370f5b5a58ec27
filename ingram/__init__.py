"""ingram-sync: keep a local SQLite catalog in step with Ingram Micro's Reseller API v6."""

__version__ = "0.1.0"
