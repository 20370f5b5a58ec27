"""The config's price, stock and target sections, read into rules (``ingram.config`` calls it).

::

    [pricing]                # the defaults: markup (percent over cost) or margin
    markup = 20              # (percent of the sell price), ending, cap_at_retail,
    ending = "0.99"          # map_floor, min_margin
    [[pricing.rules]]        # one of part_number, vendor, category; any of the above
    vendor = "Cisco Systems"
    markup = 10
    [stock]                  # buffer, min_stock, location (Shopify's inventory CSV)
    buffer = 2
    [targets.myerp]          # column = field, for any other shop or ERP
    "Article" = "sku"

Rules match by part number first, then vendor, then category (or subcategory),
case-insensitively; among rules of one kind the first in the file wins. A value
that cannot be read is a ``RuleError`` naming its table and key; ``locate`` finds
its line in the file's text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property
from typing import Any

from ingram.errors import ConfigError

SECTIONS = ("pricing", "stock", "targets")
DEFAULT_LOCATION = "Ingram Micro"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TARGET_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
KNOWN_MOST = 10_000  # vendor and category combinations remembered by ``rule_for``


class MatchKind(StrEnum):
    """What a ``[[pricing.rules]]`` entry matches, in the order they are tried."""

    PART_NUMBER = "part_number"
    VENDOR = "vendor"
    CATEGORY = "category"


PRICE_KEYS = ("markup", "margin", "ending", "cap_at_retail", "map_floor", "min_margin")
STOCK_KEYS = ("buffer", "min_stock", "location")


@dataclass(frozen=True)
class PriceRule:
    """One way to price: the ``[pricing]`` defaults (position 0) or a ``[[pricing.rules]]``."""

    position: int
    match: MatchKind | None
    value: str
    markup: Decimal | None
    margin: Decimal | None
    ending: Decimal | None  # None: keep the cents
    cap_at_retail: bool
    map_floor: bool
    min_margin: Decimal

    @cached_property
    def factor(self) -> Decimal:
        """What a markup multiplies the cost by: (100 + markup) / 100, exactly."""
        return (100 + (self.markup or 0)) / Decimal(100)

    @cached_property
    def period(self) -> Decimal:
        """How often the ending recurs: every 1 for 0.99, every 10 for 9.99."""
        ending = self.ending or 0
        return Decimal(10) ** len(str(int(ending))) if ending >= 1 else Decimal(1)

    @property
    def label(self) -> str:
        """``default``, or ``rule 2 (vendor "Cisco Systems")``."""
        if self.match is None:
            return "default"
        return f'rule {self.position} ({self.match} "{self.value}")'

    @property
    def method(self) -> str:
        """``markup 20%`` or ``margin 15%``."""
        if self.margin is not None:
            return f"margin {self.margin}%"
        return f"markup {self.markup}%"


@dataclass(frozen=True)
class StockRules:
    buffer: int = 0
    min_stock: int = 0
    location: str = DEFAULT_LOCATION


@dataclass(frozen=True)
class PublishRules:
    """Everything shop exports follow. ``default`` is None when no ``[pricing]`` is set."""

    default: PriceRule | None = None
    rules: tuple[PriceRule, ...] = ()
    stock: StockRules = StockRules()
    targets: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    delist_after_days: float = 30.0
    by_kind: dict[MatchKind, dict[str, PriceRule]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    # (vendor, category, subcategory) -> rule: a catalog has few of these, an export asks
    # once per product
    known: dict[tuple[str | None, ...], PriceRule | None] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for kind in MatchKind:
            self.by_kind[kind] = {}
        for rule in self.rules:
            if rule.match is not None:  # the first rule of a kind wins
                self.by_kind[rule.match].setdefault(rule.value.casefold(), rule)

    def rule_for(
        self, part_number: str, vendor: str | None, category: str | None, subcategory: str | None
    ) -> PriceRule | None:
        """The rule that prices this product: part number, vendor, category, else default."""
        by_part_number = self.by_kind[MatchKind.PART_NUMBER]
        if by_part_number and part_number.casefold() in by_part_number:
            return by_part_number[part_number.casefold()]
        key = (vendor, category, subcategory)
        if key in self.known:
            return self.known[key]
        rule = self.default
        for kind, value in (
            (MatchKind.VENDOR, vendor),
            (MatchKind.CATEGORY, category),
            (MatchKind.CATEGORY, subcategory),
        ):
            if value and value.casefold() in self.by_kind[kind]:
                rule = self.by_kind[kind][value.casefold()]
                break
        if len(self.known) < KNOWN_MOST:
            self.known[key] = rule
        return rule


class RuleError(ConfigError):
    """A value of the price, stock or target sections that cannot be used."""

    def __init__(self, table: tuple[str, ...], index: int | None, key: str | None, problem: str):
        self.table, self.index, self.key = table, index, key
        where = f"[[{'.'.join(table)}]] #{index}" if index else f"[{'.'.join(table)}]"
        super().__init__(f"{where} {key}: {problem}" if key else f"{where}: {problem}")


def parse_publish_rules(
    sections: Mapping[str, Any],
    *,
    prefix: tuple[str, ...] = (),
    delist_after_days: float = 30.0,
    target_fields: frozenset[str] = frozenset(),
    builtin_targets: frozenset[str] = frozenset(),
) -> PublishRules:
    """Rules from the ``pricing``, ``stock`` and ``targets`` tables of one config layer
    (``prefix`` is where they sit in the file: ``("profiles", "ca")`` in a profile)."""
    pricing = _table(sections.get("pricing"), (*prefix, "pricing"))
    default = None
    rules: tuple[PriceRule, ...] = ()
    if pricing is not None:
        default = _default_rule(pricing, (*prefix, "pricing"))
        entries = pricing.get("rules", [])
        if not isinstance(entries, list):
            raise RuleError((*prefix, "pricing"), None, "rules", "use [[pricing.rules]] tables")
        rules = tuple(
            _rule(entry, default, (*prefix, "pricing", "rules"), number)
            for number, entry in enumerate(entries, 1)
        )
    stock = _table(sections.get("stock"), (*prefix, "stock"))
    targets = _table(sections.get("targets"), (*prefix, "targets")) or {}
    return PublishRules(
        default=default,
        rules=rules,
        stock=StockRules() if stock is None else _stock(stock, (*prefix, "stock")),
        targets={
            name: _target(name, columns, (*prefix, "targets", name), target_fields, builtin_targets)
            for name, columns in targets.items()
        },
        delist_after_days=delist_after_days,
    )


def _table(value: Any, table: tuple[str, ...]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RuleError(table, None, None, f"must be a table ([{'.'.join(table)}]), not a value")
    return value


def _unknown(
    values: Mapping[str, Any],
    allowed: tuple[str, ...],
    table: tuple[str, ...],
    index: int | None = None,
) -> None:
    for key in values:
        if key not in allowed:
            known = ", ".join(allowed)
            raise RuleError(table, index, key, f"unknown key; use {known}")


def _default_rule(pricing: dict[str, Any], table: tuple[str, ...]) -> PriceRule:
    _unknown(pricing, (*PRICE_KEYS, "rules"), table)
    markup, margin = _method(pricing, table, None)
    if markup is None and margin is None:
        raise RuleError(table, None, None, "give markup (percent over cost) or margin")
    return PriceRule(
        position=0,
        match=None,
        value="",
        markup=markup,
        margin=margin,
        ending=_ending(pricing.get("ending", "none"), table, None),
        cap_at_retail=_flag(pricing.get("cap_at_retail", False), table, None, "cap_at_retail"),
        map_floor=_flag(pricing.get("map_floor", True), table, None, "map_floor"),
        min_margin=_percent(pricing.get("min_margin", 0), table, None, "min_margin", below=100),
    )


def _rule(entry: Any, default: PriceRule, table: tuple[str, ...], index: int) -> PriceRule:
    if not isinstance(entry, dict):
        raise RuleError(table, index, None, "must be a table of keys")
    _unknown(entry, (*(kind.value for kind in MatchKind), *PRICE_KEYS), table, index)
    kinds = [kind for kind in MatchKind if kind.value in entry]
    if len(kinds) != 1:
        problem = "matches nothing" if not kinds else "matches by more than one key"
        raise RuleError(table, index, None, f"{problem}: give one of part_number, vendor, category")
    kind = kinds[0]
    value = _text(entry[kind.value], table, index, kind.value)
    markup, margin = _method(entry, table, index)
    if markup is None and margin is None:
        markup, margin = default.markup, default.margin
    return PriceRule(
        position=index,
        match=kind,
        value=value.upper() if kind is MatchKind.PART_NUMBER else value,
        markup=markup,
        margin=margin,
        ending=_ending(entry["ending"], table, index) if "ending" in entry else default.ending,
        cap_at_retail=_flag(
            entry.get("cap_at_retail", default.cap_at_retail), table, index, "cap_at_retail"
        ),
        map_floor=_flag(entry.get("map_floor", default.map_floor), table, index, "map_floor"),
        min_margin=_percent(
            entry.get("min_margin", default.min_margin), table, index, "min_margin", below=100
        ),
    )


def _method(
    values: Mapping[str, Any], table: tuple[str, ...], index: int | None
) -> tuple[Decimal | None, Decimal | None]:
    """(markup, margin): one of them, or neither."""
    if "markup" in values and "margin" in values:
        raise RuleError(table, index, "margin", "give markup or margin, not both")
    markup = values.get("markup")
    margin = values.get("margin")
    return (
        None if markup is None else _percent(markup, table, index, "markup", below=10_000),
        None if margin is None else _percent(margin, table, index, "margin", below=100),
    )


def _percent(
    value: Any, table: tuple[str, ...], index: int | None, key: str, *, below: int
) -> Decimal:
    """A percent from 0 up to (not including) ``below``, as typed (20, 7.5 or "7.5")."""
    number = None
    if isinstance(value, int | float | str | Decimal) and not isinstance(value, bool):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite():
        raise RuleError(table, index, key, f"{value!r} is not a number; give a percent such as 20")
    if not 0 <= number < below:
        raise RuleError(table, index, key, f"{value!r} must be at least 0 and below {below}")
    return number


def _ending(value: Any, table: tuple[str, ...], index: int | None) -> Decimal | None:
    """``"none"`` (keep the cents) or an ending such as ``"0.99"`` or ``"9.99"``."""
    if isinstance(value, str) and value.strip().lower() == "none":
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        ending = Decimal(str(value).strip())
    except InvalidOperation:
        ending = Decimal(-1)
    if (
        not ending.is_finite()
        or not 0 <= ending < 1000
        or ending != ending.quantize(Decimal("0.01"))
    ):
        raise RuleError(
            table, index, "ending", f'{value!r} is not an ending; give "0.99", "9.99" or "none"'
        )
    return ending.quantize(Decimal("0.01"))


def _flag(value: Any, table: tuple[str, ...], index: int | None, key: str) -> bool:
    if not isinstance(value, bool):
        raise RuleError(table, index, key, f"{value!r} is not true or false")
    return value


def _text(value: Any, table: tuple[str, ...], index: int | None, key: str) -> str:
    if not isinstance(value, str) or not value.strip() or CONTROL.search(value):
        raise RuleError(table, index, key, f"{value!r} must be text on one line")
    return value.strip()


def _count(value: Any, table: tuple[str, ...], key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RuleError(table, None, key, f"{value!r} is not a whole number")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise RuleError(table, None, key, f"{value!r} is not a whole number") from None
    if not 0 <= number <= 10**9:
        raise RuleError(table, None, key, f"{value!r} must be between 0 and 1000000000")
    return number


def _stock(values: dict[str, Any], table: tuple[str, ...]) -> StockRules:
    _unknown(values, STOCK_KEYS, table)
    return StockRules(
        buffer=_count(values.get("buffer", 0), table, "buffer"),
        min_stock=_count(values.get("min_stock", 0), table, "min_stock"),
        location=_text(values.get("location", DEFAULT_LOCATION), table, None, "location"),
    )


def _target(
    name: str,
    columns: Any,
    table: tuple[str, ...],
    fields: frozenset[str],
    builtin: frozenset[str],
) -> tuple[tuple[str, str], ...]:
    if not TARGET_NAME.fullmatch(name):
        raise RuleError(table, None, None, "name a target with letters, digits, - and _")
    if name in builtin:
        raise RuleError(table, None, None, f"{name} is a built-in target: choose another name")
    if not isinstance(columns, dict) or not columns:
        raise RuleError(table, None, None, 'give its columns as "Column" = "field"')
    mapping = []
    for column, wanted in columns.items():
        if not column.strip() or CONTROL.search(column):
            raise RuleError(table, None, column, "a column name must be text on one line")
        if not isinstance(wanted, str) or wanted not in fields:
            raise RuleError(
                table, None, column, f"{wanted!r} is not a field; see docs/shop.md for them"
            )
        mapping.append((column, wanted))
    return tuple(mapping)


HEADER = re.compile(r"^\s*(\[\[?)([^\[\]]*)\]\]?\s*(?:#.*)?$")


def locate(error: RuleError, text: str) -> int | None:
    """The line of ``error``'s key in the config file's ``text`` (its table's header line
    when the key is not found there; None when neither is)."""
    wanted = ".".join(error.table)
    key = None if error.key is None else re.compile(rf"""^\s*(["']?){re.escape(error.key)}\1\s*=""")
    inside, seen, found = False, 0, None
    for number, line in enumerate(text.splitlines(), 1):
        header = HEADER.match(line)
        if header:
            name = re.sub(r"\s*\.\s*", ".", header[2].strip()).replace('"', "").replace("'", "")
            inside = name == wanted and (error.index is None) == (header[1] == "[")
            if inside and error.index is not None:
                seen += 1
                inside = seen == error.index
            if inside:
                found = number
            continue
        if inside and key is not None and key.match(line):
            return number
    return found
