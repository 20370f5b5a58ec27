"""Where a mirror goes: its URL read, its password kept out of every message, an engine.

``postgresql://user@host:port/db`` goes through psycopg 3, ``mysql://`` (and
``mariadb://``) through PyMySQL; the password comes from ``INGRAM_MIRROR_PASSWORD``
or the URL. ``label`` is the URL without a password: what messages and the
catalog's cursor table name the target by.

Example::

    target = MirrorTarget.parse("postgresql://shop@db.example:5432/shop", password="...")
    engine = target.engine()
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ingram.errors import ConfigError
from ingram.redact import mask_secrets, secret_forms

DRIVERS = {
    "postgresql": ("postgresql+psycopg", "postgres"),
    "postgres": ("postgresql+psycopg", "postgres"),
    "postgresql+psycopg": ("postgresql+psycopg", "postgres"),
    "mysql": ("mysql+pymysql", "mysql"),
    "mariadb": ("mysql+pymysql", "mysql"),
    "mysql+pymysql": ("mysql+pymysql", "mysql"),
    "mariadb+pymysql": ("mysql+pymysql", "mysql"),
}
CONNECT_TIMEOUT = 10  # seconds: a server that is down fails the mirror at once, not in minutes
STATEMENT_TIMEOUT = 300  # seconds: a lock held in the target for longer fails the batch
URL_HELP = "use postgresql://user@host:port/database or mysql://user@host:port/database"


@dataclass(frozen=True)
class MirrorTarget:
    url: URL = field(repr=False)
    label: str
    extra: str  # the pip extra that brings the driver

    @classmethod
    def parse(cls, text: str, password: str | None = None) -> MirrorTarget:
        """The target of ``text``; a ConfigError naming what is wrong (never the password)."""
        try:
            url = make_url(text.strip())
        except ArgumentError:
            raise ConfigError(f"mirror URL {redact(text)!r} is not a URL: {URL_HELP}") from None
        if url.drivername not in DRIVERS:
            raise ConfigError(
                f"mirror URL: {url.drivername!r} is not a database ingram-sync mirrors to;"
                f" {URL_HELP}"
            )
        if not url.database:
            raise ConfigError(f"mirror URL {label_of(url)} names no database: {URL_HELP}")
        driver, extra = DRIVERS[url.drivername]
        label = label_of(url)
        return cls(url.set(drivername=driver, password=password or url.password), label, extra)

    def engine(self) -> Engine:
        """An engine for this target; a ConfigError if the driver's extra is not installed."""
        if self.extra == "postgres":
            args: dict[str, object] = {
                "connect_timeout": CONNECT_TIMEOUT,
                "application_name": "ingram-sync mirror",
                "options": f"-c statement_timeout={STATEMENT_TIMEOUT * 1000}",
            }
        else:
            args = {
                "connect_timeout": CONNECT_TIMEOUT,
                "read_timeout": STATEMENT_TIMEOUT,
                "write_timeout": STATEMENT_TIMEOUT,
                "charset": "utf8mb4",
            }
        try:
            return create_engine(self.url, connect_args=args, hide_parameters=True)
        except (ImportError, NoSuchModuleError):
            raise ConfigError(
                f"mirroring to {self.label} needs its driver:"
                f" pip install 'ingram-sync[{self.extra}]'"
            ) from None

    def redact(self, message: str) -> str:
        """``message`` with the password masked in every form it could take."""
        password = self.url.password or ""
        forms = sorted({*secret_forms(password), password} - {""}, key=len, reverse=True)
        return mask_secrets(message, forms)


def label_of(url: URL) -> str:
    """The URL as messages show it: scheme as typed by users, no password, no driver."""
    scheme = url.drivername.split("+")[0]
    shown = url.set(drivername="postgresql" if scheme == "postgres" else scheme, password=None)
    return shown.render_as_string(hide_password=True)


def redact(text: str) -> str:
    """A URL that could not be read: everything between ``://`` and ``@`` hidden."""
    head, sep, rest = text.partition("://")
    if sep and "@" in rest:
        return f"{head}://***@{rest.rsplit('@', 1)[1]}"
    return text
