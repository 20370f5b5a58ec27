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
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ingram.errors import ConfigError
from ingram.models import ClientSettings

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
}
SECRETS = ("client_secret", "webhook_secret")
WARNED: set[Path] = set()  # config files already warned about in this process
AUTO_WORKERS = 0  # --details-workers auto: the engine sizes the pool from measured latency
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
LONGEST_DURATION = 100 * 365 * 86400.0
LONGEST_WAIT = 86400.0  # seconds: longer timeouts, intervals or waits are mistakes


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

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in SECRETS}
        return f"Settings({shown})"


def parse_duration(text: str | float | int, name: str = "duration") -> float:
    """Seconds from ``90``, ``45s``, ``30m``, ``12h``, ``7d`` or ``2w``."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", str(text).lower())
        if not match:
            raise ConfigError(
                f"{name}: {text!r} is not a duration; use seconds or a number with s, m, h, d or w"
                " (for example 30m or 7d)"
            )
        seconds = float(match[1]) * DURATION_UNITS.get(match[2] or "s", 1)
    if seconds < 0:
        raise ConfigError(f"{name}: a duration cannot be negative")
    if not seconds <= LONGEST_DURATION:  # also nan and inf
        raise ConfigError(f"{name}: {text!r} is longer than 100 years; give a shorter duration")
    return seconds


def duration_text(seconds: float) -> str:
    """``604800`` -> ``7d``, ``90`` -> ``90s``: the largest unit up to days that fits whole."""
    for unit, size in sorted(DURATION_UNITS.items(), key=lambda item: -item[1])[1:]:
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def parse_waits(text: str | list[Any], name: str) -> tuple[float, ...]:
    """Retry waits from ``"30,60,120"`` (or a TOML array); ``""`` means no retries."""
    items = text if isinstance(text, list) else [p for p in str(text).split(",") if p.strip()]
    return tuple(parse_duration(item, name) for item in items)


def positive_number(value: Any, name: str, most: float = LONGEST_WAIT) -> float:
    """A number above 0 and at most ``most`` (a day by default: longer ones overflow times)."""
    try:
        if isinstance(value, bool):  # TOML true is no timeout
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: {value!r} is not a number") from None
    if not 0 < number <= most:  # also nan
        raise ConfigError(f"{name}: must be a number above 0 and at most {most:g}, got {value!r}")
    return number


def days_to_keep(value: Any, name: str) -> float:
    """Days of history to keep; 0 keeps everything."""
    try:
        is_zero = not isinstance(value, bool) and float(value) == 0
    except (TypeError, ValueError):
        is_zero = False
    return 0.0 if is_zero else positive_number(value, name, most=LONGEST_DURATION / 86400)


def calls_per_minute(value: Any, name: str) -> float:
    """A rate of at least one call a day: a slower one would schedule calls past year 9999."""
    rate = positive_number(value, name, most=1e9)
    if rate < 1 / 1440:
        raise ConfigError(f"{name}: {value!r} is less than one call a day; give 0.001 or more")
    return rate


def int_in_range(low: int, high: int) -> Callable[[Any, str], int]:
    def check(value: Any, name: str) -> int:
        try:
            number = int(str(value))
        except ValueError:
            raise ConfigError(f"{name}: {value!r} is not a whole number") from None
        if not low <= number <= high:
            raise ConfigError(f"{name}: must be between {low} and {high}, got {number}")
        return number

    return check


def non_negative(value: Any, name: str) -> float:
    try:
        is_zero = float(value) == 0
    except (TypeError, ValueError):
        is_zero = False
    return 0.0 if is_zero else positive_number(value, name)


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
    file_values = read_config_file(Path(path).expanduser() if path else None)
    profiles = file_values.pop("profiles", {})
    if "profile" in file_values:
        raise ConfigError("choose a profile with --profile NAME or INGRAM_PROFILE, not in the file")
    file_source = f"config {config_file_path(config_path, environ)[0]}"
    layers = [(file_source, file_values)]
    if flags.get("profile") is not None and not str(flags["profile"]).strip():
        raise ConfigError("--profile needs a name: the [profiles.NAME] section to use")
    profile = flags.get("profile") or environ.get("INGRAM_PROFILE")
    if profile:
        section = profile_values(profiles, profile, path or str(DEFAULT_CONFIG))
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
    section = {key.replace("-", "_"): value for key, value in profiles[name].items()}
    # A profile never inherits the shared database: two accounts in one catalog would mix.
    return {"db": f"ingram_sync_{name}.db", **section, "profile": name}


def convert(values: Mapping[str, Any]) -> Settings:
    known = {f.name for f in fields(Settings)}
    settings: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}; see docs/configuration.md")
        label = ENVIRONMENT.get(key) or key.replace("_", "-")
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
    return any(isinstance(s, dict) and any(key in s for key in SECRETS) for s in sections)


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
