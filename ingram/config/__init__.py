"""Settings: command-line flag > environment variable > profile > TOML config file > default.

Example config file (``~/.config/ingram-sync/config.toml`` or ``--config FILE``)::

    client_id = "..."
    client_secret = "..."      # keep this file chmod 600
    customer_number = "20-222222"
    pa_rate = 60
    details_interval = 1.0

    [profiles.ca]              # selected by --profile ca or INGRAM_PROFILE=ca
    customer_number = "40-333333"
    country_code = "CA"
    db = "catalog-ca.db"       # each profile has its own database (default ingram_sync_ca.db)
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingram.config.values import (
    CONTROL_CHARACTERS,
    calls_per_minute,
    days_to_keep,
    int_in_range,
    masked_url,
    non_negative,
    on_or_off,
    parse_duration,
    parse_waits,
    percent,
    positive_number,
    stock_events,
)
from ingram.errors import ConfigError
from ingram.models import ClientSettings
from ingram.publish.settings import SECTIONS as PUBLISH_SECTIONS
from ingram.publish.settings import PublishRules, RuleError, locate, parse_publish_rules
from ingram.publish.targets import FIELDS as TARGET_FIELDS
from ingram.publish.targets import BuiltinTarget

log = logging.getLogger("ingram.config")

PRODUCTION_URL = "https://api.ingrammicro.com:443"
VENDOR_SANDBOX_URL = "https://api.ingrammicro.com:443/sandbox"
DEFAULT_CONFIG = Path("~/.config/ingram-sync/config.toml")

ENVIRONMENT = {
    "client_id": "INGRAM_CLIENT_ID",
    "client_secret": "INGRAM_CLIENT_SECRET",
    "customer_number": "INGRAM_CUSTOMER_NUMBER",
    "country_code": "INGRAM_COUNTRY_CODE",
    "sender_id": "INGRAM_SENDER_ID",
    "api_url": "INGRAM_API_URL",
    "token_path": "INGRAM_TOKEN_PATH",
    "token_url": "INGRAM_TOKEN_URL",
    "token_cache": "INGRAM_TOKEN_CACHE",
    "db": "INGRAM_SYNC_DB",
    "webhook_secret": "INGRAM_WEBHOOK_SECRET",
    "ftp_user": "INGRAM_FTP_USER",  # the price file's FTP/SFTP login
    "ftp_password": "INGRAM_FTP_PASSWORD",
    "ftp_ssh_key": "INGRAM_FTP_SSH_KEY",
    "mirror_url": "INGRAM_MIRROR_URL",
    "mirror_password": "INGRAM_MIRROR_PASSWORD",
    "notify_secret": "INGRAM_NOTIFY_SECRET",
}
SECRETS = (
    "client_secret",
    "webhook_secret",
    "ftp_password",
    "mirror_password",
    "notify_secret",
)
# Config tables read as settings of their own: ``[notify] url`` is the setting notify_url.
SECTIONS = {
    "notify": ("url", "secret", "exec", "price_change_percent", "stock", "backorder_eta")
    + ("discontinued", "replacement"),
}
WARNED: set[Path] = set()  # config files already warned about in this process
AUTO_WORKERS = 0  # --details-workers auto: the engine sizes the pool from measured latency


@dataclass(frozen=True)
class Settings:
    """Every setting of ingram-sync, resolved. ``client_secret`` never shows in a repr."""

    db: str = "ingram_sync.db"
    client_id: str | None = None
    client_secret: str | None = None
    customer_number: str | None = None
    country_code: str = "US"
    sender_id: str | None = None
    api_url: str = PRODUCTION_URL
    token_path: str = "/oauth/oauth20/token"
    token_url: str | None = None  # full URL; default: the API's bare host + token_path
    token_cache: str | None = None  # folder for the shared token; default the cache folder; off
    pa_rate: float = 60.0
    details_interval: float = 1.0
    pa_retry_waits: tuple[float, ...] = (30.0, 60.0, 120.0)
    details_retry_waits: tuple[float, ...] = (10.0, 30.0, 60.0)
    timeout: float = 30.0
    deadline: float = 120.0
    max_concurrent: int = 5
    details_workers: int = 1
    batch_size: int = 50
    details_max_age: float = 7 * 86400.0
    min_interval: float = 0.0
    outage_limit: float = 120.0
    keep_days: float = 90.0
    log_file: str | None = None
    profile: str | None = None
    webhook_secret: str | None = None
    track_replacements: bool = False  # track the part number Ingram names for a gone one
    delist_after_days: float = 30.0  # a gone product is unpublished in shops after this
    ftp_user: str | None = None
    ftp_password: str | None = None
    ftp_ssh_key: str | None = None  # a private key file for SFTP, instead of the password
    mirror_url: str | None = None  # postgresql://... or mysql://...: every sync mirrors after
    mirror_password: str | None = None
    notify_url: str | None = None  # the change feed's HTTPS endpoint
    notify_secret: str | None = None
    notify_exec: str | None = None  # or a command the events are piped to (JSON Lines)
    notify_price_change_percent: Decimal = Decimal(0)
    notify_stock: str = "thresholds"
    notify_backorder_eta: bool = True
    notify_discontinued: bool = True
    notify_replacement: bool = True

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in SECRETS}
        shown["mirror_url"] = masked_url(self.mirror_url)
        return f"Settings({shown})"


CONVERTERS: dict[str, Callable[[Any, str], Any]] = {
    "pa_rate": calls_per_minute,
    "details_interval": non_negative,
    "timeout": positive_number,
    "deadline": positive_number,
    "pa_retry_waits": parse_waits,
    "details_retry_waits": parse_waits,
    "max_concurrent": int_in_range(1, 64),
    "details_workers": lambda value, name: (
        AUTO_WORKERS if str(value).strip().lower() == "auto" else int_in_range(1, 32)(value, name)
    ),
    "batch_size": int_in_range(1, 50),
    "details_max_age": parse_duration,
    "min_interval": parse_duration,
    "outage_limit": parse_duration,
    "keep_days": days_to_keep,
    "track_replacements": on_or_off,
    "delist_after_days": days_to_keep,
    "notify_price_change_percent": percent,
    "notify_stock": stock_events,
    "notify_backorder_eta": on_or_off,
    "notify_discontinued": on_or_off,
    "notify_replacement": on_or_off,
}


def load_settings(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    config_path: str | None = None,
) -> Settings:
    """Resolve settings from flags (None = not given), environment, config file, defaults."""
    values: dict[str, Any] = {}
    for _, layer in setting_layers(flags, environ, config_path):
        values.update(layer)
    return convert(values)


def config_file_path(
    config_path: str | None, environ: Mapping[str, str] | None = None
) -> tuple[Path, str]:
    """The config file settings are read from, and what chose it."""
    environ = os.environ if environ is None else environ
    if config_path:
        return Path(config_path).expanduser(), "--config"
    if environ.get("INGRAM_SYNC_CONFIG"):
        return Path(environ["INGRAM_SYNC_CONFIG"]).expanduser(), "INGRAM_SYNC_CONFIG"
    return DEFAULT_CONFIG.expanduser(), "the default path"


def setting_layers(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    config_path: str | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(source, values) from the lowest precedence to the highest: file, profile, env, flags."""
    environ = os.environ if environ is None else environ
    path = config_path or environ.get("INGRAM_SYNC_CONFIG")
    file_values = flatten_sections(
        without_sections(read_config_file(Path(path).expanduser() if path else None))
    )
    profiles = file_values.pop("profiles", {})
    if "profile" in file_values:
        raise ConfigError("choose a profile with --profile NAME or INGRAM_PROFILE, not in the file")
    file_source = f"config {config_file_path(config_path, environ)[0]}"
    layers = [(file_source, file_values)]
    if flags.get("profile") is not None and not str(flags["profile"]).strip():
        raise ConfigError("--profile needs a name: the [profiles.NAME] section to use")
    profile = flags.get("profile") or environ.get("INGRAM_PROFILE")
    if profile:
        section = without_sections(profile_values(profiles, profile, path or str(DEFAULT_CONFIG)))
        layers.append((f"{file_source} [profiles.{profile}]", section))
    layers += [
        (f"env {variable}", {key: environ[variable]})
        for key, variable in ENVIRONMENT.items()
        if environ.get(variable)
    ]
    flag_values = {key: value for key, value in flags.items() if value is not None}
    layers += [(f"flag --{key.replace('_', '-')}", {key: flag_values[key]}) for key in flag_values]
    return layers


def setting_sources(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    config_path: str | None = None,
) -> dict[str, str]:
    """Where each setting's effective value came from; ``default`` when nothing set it."""
    sources = {f.name: "default" for f in fields(Settings)}
    for source, layer in setting_layers(flags, environ, config_path):
        sources.update(dict.fromkeys(layer, source))
    return sources


def profile_values(profiles: Any, name: str, path: str) -> dict[str, Any]:
    """The ``[profiles.NAME]`` section, with its own database unless it names one."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise ConfigError(f"profile {name!r}: use letters, digits, '-' and '_' only")
    if not isinstance(profiles, dict) or not isinstance(profiles.get(name), dict):
        known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) and profiles else "none"
        raise ConfigError(
            f"profile {name!r} is not in config file {path} (profiles there: {known});"
            f" add a [profiles.{name}] section"
        )
    section = flatten_sections({key.replace("-", "_"): v for key, v in profiles[name].items()})
    # A profile never inherits the shared database: two accounts in one catalog would mix.
    return {"db": f"ingram_sync_{name}.db", **section, "profile": name}


def without_sections(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` less the price, stock and target tables (``load_publish_rules`` reads them)."""
    return {key: value for key, value in values.items() if key not in PUBLISH_SECTIONS}


def load_publish_rules(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    config_path: str | None = None,
) -> PublishRules:
    """The ``[pricing]``, ``[stock]`` and ``[targets.NAME]`` rules; a profile's own section
    replaces the file's (its targets are added). A value that cannot be used is a
    ConfigError naming the key and its line."""
    environ = os.environ if environ is None else environ
    settings = load_settings(flags, environ, config_path)
    named = config_path or environ.get("INGRAM_SYNC_CONFIG")
    path = Path(named).expanduser() if named else DEFAULT_CONFIG.expanduser()
    values = read_config_file(path if named else None)
    layers: list[tuple[tuple[str, ...], dict[str, Any]]] = [((), values)]
    if settings.profile:
        layers.append((("profiles", settings.profile), values["profiles"][settings.profile]))
    options: dict[str, Any] = {
        "delist_after_days": settings.delist_after_days,
        "target_fields": frozenset(TARGET_FIELDS),
        "builtin_targets": frozenset(BuiltinTarget),
    }
    merged = PublishRules(delist_after_days=settings.delist_after_days)
    for prefix, layer in layers:
        try:
            rules = parse_publish_rules(layer, prefix=prefix, **options)
        except RuleError as error:
            line = locate(error, path.read_text(encoding="utf-8"))
            where = f"config file {path}" + (f", line {line}" if line else "")
            raise ConfigError(f"{where}: {error}") from None
        merged = replace(
            merged,
            default=rules.default if "pricing" in layer else merged.default,
            rules=rules.rules if "pricing" in layer else merged.rules,
            stock=rules.stock if "stock" in layer else merged.stock,
            targets={**merged.targets, **rules.targets},
        )
    return merged


def flatten_sections(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each table of ``SECTIONS`` as settings (``[notify] url`` -> notify_url),
    the publishing tables already taken out by ``without_sections``."""
    flat = dict(values)
    for section, keys in SECTIONS.items():
        table = flat.pop(section, None)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise ConfigError(f"{section} must be a table: [{section}] with its keys below it")
        for key, value in table.items():
            if key.replace("-", "_") not in keys:
                raise ConfigError(
                    f"unknown setting {key!r} in [{section}]; known there: {', '.join(keys)}"
                )
            flat[f"{section}_{key.replace('-', '_')}"] = value
    return flat


def convert(values: Mapping[str, Any]) -> Settings:
    known = {f.name for f in fields(Settings)}
    settings: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}; see docs/configuration.md")
        section = next((name for name in SECTIONS if key.startswith(f"{name}_")), None)
        label = ENVIRONMENT.get(key) or (
            f"[{section}] {key[len(section) + 1 :]}" if section else key.replace("_", "-")
        )
        converter = CONVERTERS.get(key)
        settings[key] = converter(value, label) if converter else text_setting(value, label)
    return replace(Settings(), **settings)


def text_setting(value: Any, name: str) -> str:
    """A text setting: a string without control characters (a CR/LF would forge headers)."""
    if not isinstance(value, str):
        raise ConfigError(f"{name}: must be text, got {type(value).__name__} {value!r}"[:200])
    if CONTROL_CHARACTERS.search(value):
        raise ConfigError(f"{name} holds a line break or another control character: remove it")
    return value


def read_config_file(path: Path | None) -> dict[str, Any]:
    """The settings in a TOML file (``{}`` when no file was named and the default is absent)."""
    named = path is not None
    path = path or DEFAULT_CONFIG.expanduser()
    if not path.exists():
        if named:
            raise ConfigError(f"config file {path} does not exist")
        return {}
    import tomllib  # here: settings from the environment alone never parse TOML (6 ms)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from error
    except RecursionError:  # tomllib's parser recurses once per level of nesting
        raise ConfigError(
            f"config file {path} nests arrays or tables too deep to be a config file"
        ) from None
    values = {key.replace("-", "_"): value for key, value in data.items()}
    shared = path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    if holds_secret(values) and shared and path not in WARNED:
        WARNED.add(path)  # settings are resolved more than once per command: warn once
        log.warning(
            "warning: %s holds a secret and other users can read it: chmod 600 %s",
            path,
            path,
        )
    return values


def holds_secret(values: Mapping[str, Any]) -> bool:
    """A secret at the top of the file or in any ``[profiles.NAME]`` section."""
    profiles = values.get("profiles")
    sections = [values, *(profiles.values() if isinstance(profiles, dict) else ())]
    return any(
        isinstance(section, dict)
        and (
            any(key in flatten_sections(section) for key in SECRETS)
            or masked_url(str(section.get("mirror_url"))) != str(section.get("mirror_url"))
        )
        for section in sections
    )


def client_settings(settings: Settings) -> ClientSettings:
    """The client's settings, or a ConfigError naming each missing or invalid one."""
    missing = [
        ENVIRONMENT[key]
        for key in ("client_id", "client_secret", "customer_number")
        if not getattr(settings, key)
    ]
    if missing:
        raise ConfigError(
            f"missing {', '.join(missing)}: set {'it' if len(missing) == 1 else 'them'} in the"
            " environment or the config file (see docs/configuration.md)"
        )
    check_header_value("INGRAM_CUSTOMER_NUMBER", settings.customer_number, 10)
    check_header_value("INGRAM_SENDER_ID", settings.sender_id, 32)
    if not re.fullmatch(r"[A-Za-z]{2}", settings.country_code):
        raise ConfigError("INGRAM_COUNTRY_CODE must be a two-letter country code such as US")
    if settings.token_url is not None and not re.match(r"https?://[^/]", settings.token_url):
        raise ConfigError(
            f"INGRAM_TOKEN_URL {settings.token_url!r} must be a full URL starting with https://"
        )
    if not re.match(r"https?://", settings.api_url):
        raise ConfigError(
            f"INGRAM_API_URL {settings.api_url!r} must start with https://"
            " (or http:// for a local sandbox)"
        )
    return ClientSettings(
        client_id=settings.client_id or "",
        client_secret=settings.client_secret or "",
        customer_number=settings.customer_number or "",
        country_code=settings.country_code.upper(),
        sender_id=settings.sender_id,
        base_url=settings.api_url.rstrip("/"),
        token_path=settings.token_path,
        token_url=settings.token_url,
        token_cache=token_cache_folder(settings.token_cache),
        connect_timeout=settings.timeout,  # also bounds the TLS handshake
        timeout=settings.timeout,
        deadline=settings.deadline,
        pa_rate=settings.pa_rate,
        details_interval=settings.details_interval,
        pa_retry_waits=settings.pa_retry_waits,
        details_retry_waits=settings.details_retry_waits,
        outage_limit=settings.outage_limit,
    )


def token_cache_folder(setting: str | None) -> str | None:
    """Where the shared token file lives: the setting, else ``$XDG_CACHE_HOME`` or
    ``~/.cache``; None when the setting is ``off``."""
    if setting is not None and setting.strip().lower() in ("off", "no", "false", "0"):
        return None
    if setting:
        return str(Path(setting).expanduser())
    return os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")


def check_header_value(variable: str, value: str | None, longest: int) -> None:
    if value is not None and len(value) > longest:
        raise ConfigError(f"{variable} is longer than the {longest} characters the API accepts")
