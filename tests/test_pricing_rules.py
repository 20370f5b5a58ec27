"""Price and stock rules: the config sections, each step in its documented order, the stock.

Prices are checked against ``shop_support.expected_price`` (fractions, none of the
package's code); config mistakes through the real CLI: one line naming the key and
its line, exit 2, nothing written.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.shop_support import Rule, below_margin, expected_price, expected_stock, write_config

from ingram.config import load_publish_rules
from ingram.errors import ConfigError
from ingram.publish.pricing import Flag, Publisher
from ingram.publish.settings import MatchKind

BASE = """
[pricing]
markup = 20
ending = "0.99"
cap_at_retail = true
map_floor = true
min_margin = 5
"""


def rules_from(tmp_path: Path, text: str, profile: str | None = None):  # type: ignore[no-untyped-def]
    path = write_config(tmp_path / "config.toml", text)
    return load_publish_rules({"profile": profile}, environ={}, config_path=str(path))


def product(**values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "ingram_part_number": "AB1234",
        "vendor_name": "Acme",
        "category": "Displays",
        "subcategory": "Monitors",
        "status": "active",
        "customer_price": "100.00",
        "retail_price": "150.00",
        "map_price": "0",
        "total_availability": 10,
        "discontinued": None,
        "discontinued_since": None,
    }
    return row | values


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
percent = st.decimals(min_value=Decimal("0"), max_value=Decimal("95"), places=1)


@settings(max_examples=300, deadline=None)
@given(
    cost=money,
    retail=st.one_of(st.just(Decimal(0)), money),
    map_price=st.one_of(st.just(Decimal(0)), money),
    amount=percent,
    by_margin=st.booleans(),
    ending=st.sampled_from([None, "0.99", "0.95", "0.00", "9.99"]),
    cap=st.booleans(),
    floor=st.booleans(),
)
def test_each_step_in_the_documented_order_matches_an_independent_computation(
    tmp_path_factory: pytest.TempPathFactory,
    cost: Decimal,
    retail: Decimal,
    map_price: Decimal,
    amount: Decimal,
    by_margin: bool,
    ending: str | None,
    cap: bool,
    floor: bool,
) -> None:
    rule = Rule(
        markup=None if by_margin else str(amount),
        margin=str(amount) if by_margin else None,
        ending=ending,
        cap_at_retail=cap,
        map_floor=floor,
        min_margin="12.5",
    )
    method = f"margin = {amount}" if by_margin else f"markup = {amount}"
    text = (
        f'[pricing]\n{method}\nending = "{ending or "none"}"\n'
        f"cap_at_retail = {str(cap).lower()}\nmap_floor = {str(floor).lower()}\nmin_margin = 12.5\n"
    )
    rules = rules_from(tmp_path_factory.mktemp("rules"), text)
    values = Publisher(rules).publish(
        product(customer_price=str(cost), retail_price=str(retail), map_price=str(map_price))
    )
    expected = expected_price(str(cost), str(retail), str(map_price), rule)
    assert values.price == expected
    assert isinstance(values.price, Decimal)
    assert (Flag.BELOW_MARGIN in values.flags) == below_margin(expected, str(cost), rule)


def test_the_map_floor_wins_over_the_retail_cap(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, BASE)
    values = Publisher(rules).publish(
        product(customer_price="90.00", retail_price="100.00", map_price="120.00")
    )
    assert values.steps is not None
    assert (values.steps.base, values.steps.ending) == (Decimal("108.00"), Decimal("108.99"))
    assert values.steps.capped == Decimal("100.00")  # the cap first...
    assert values.price == Decimal("120.00")  # ...then the floor, which wins
    assert values.margin == Decimal("25.00")


def test_a_map_of_zero_is_no_floor_and_a_retail_of_zero_no_cap(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, BASE)
    values = Publisher(rules).publish(product(retail_price="0", map_price="0"))
    assert values.price == Decimal("120.99")


RULES = (
    BASE
    + """
[[pricing.rules]]
category = "monitors"     # a subcategory matches too
markup = 30

[[pricing.rules]]
vendor = "ACME"
markup = 10

[[pricing.rules]]
category = "Displays"     # the product's category: before any subcategory match
markup = 40

[[pricing.rules]]
part_number = "ab1234"
margin = 50

[[pricing.rules]]
vendor = "acme"           # a second rule for the same vendor: the first one wins
markup = 99
"""
)


def test_rules_match_part_number_then_vendor_then_category_whatever_their_order(
    tmp_path: Path,
) -> None:
    rules = rules_from(tmp_path, RULES)
    publisher = Publisher(rules)
    matched = {
        name: publisher.publish(product(**changes)).rule
        for name, changes in {
            "part number": {},
            "vendor": {"ingram_part_number": "ZZ9999"},
            "category": {"ingram_part_number": "ZZ9999", "vendor_name": "Other"},
            "subcategory only": {
                "ingram_part_number": "ZZ9999",
                "vendor_name": "Other",
                "category": "Other",
            },
            "nothing": {
                "ingram_part_number": "ZZ9999",
                "vendor_name": "Other",
                "category": "Other",
                "subcategory": None,
            },
        }.items()
    }
    assert {name: rule.position if rule else None for name, rule in matched.items()} == {
        "part number": 4,
        "vendor": 2,
        "category": 3,
        "subcategory only": 1,
        "nothing": 0,
    }
    assert matched["part number"] is not None and matched["part number"].margin == 50
    assert matched["vendor"] is not None and matched["vendor"].match is MatchKind.VENDOR
    # a rule inherits what it does not say from [pricing]
    assert matched["vendor"].ending == Decimal("0.99") and matched["vendor"].cap_at_retail


def test_a_profile_has_its_own_rules(tmp_path: Path) -> None:
    text = RULES + '\n[profiles.ca]\ncountry_code = "CA"\n[profiles.ca.pricing]\nmargin = 25\n'
    shared = rules_from(tmp_path, text)
    own = rules_from(tmp_path, text, profile="ca")
    assert len(shared.rules) == 5 and shared.default is not None and shared.default.markup == 20
    assert own.rules == () and own.default is not None and own.default.margin == 25


@pytest.mark.parametrize(
    ("stock", "published"), [(0, 0), (3, 0), (4, 0), (5, 3), (6, 4), (500, 498), (None, 0)]
)
def test_stock_is_buffered_and_zero_below_the_minimum(
    tmp_path: Path, stock: int | None, published: int
) -> None:
    rules = rules_from(tmp_path, BASE + "[stock]\nbuffer = 2\nmin_stock = 3\n")
    assert Publisher(rules).publish(product(total_availability=stock)).stock == published
    assert published == expected_stock(stock or 0, 2, 3)


def test_gone_products_publish_no_stock_and_are_delisted_after_the_days(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, "delist_after_days = 30\n" + BASE)
    went = datetime(2026, 11, 1, 12, tzinfo=UTC)
    since = went.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    gone = product(discontinued=1, discontinued_since=since)
    early = Publisher(rules, now=went + timedelta(days=29, hours=23)).publish(gone)
    late = Publisher(rules, now=went + timedelta(days=30, seconds=1)).publish(gone)
    assert (early.stock, early.listed, early.publishable) == (0, True, True)
    assert (late.stock, late.listed) == (0, False)
    assert late.flags == {Flag.DISCONTINUED, Flag.DELISTED}
    not_found = product(status="not_found", customer_price=None, discontinued_since=since)
    values = Publisher(rules, now=went + timedelta(days=31)).publish(not_found)
    assert values.flags == {Flag.NOT_FOUND, Flag.NO_COST, Flag.DELISTED}
    assert not values.publishable and values.price is None


def test_flags_for_the_cases_a_shop_must_not_publish(tmp_path: Path) -> None:
    publisher = Publisher(rules_from(tmp_path, BASE))
    cases = {
        "no cost": product(customer_price=None),
        "zero cost": product(customer_price="0"),
        "not authorized": product(status="not_authorized", customer_price=None),
        "below margin": product(retail_price="101.00"),  # capped: 1 % margin
    }
    flags = {name: publisher.publish(row).flags for name, row in cases.items()}
    assert flags == {
        "no cost": {Flag.NO_COST},
        "zero cost": {Flag.NO_COST},
        "not authorized": {Flag.NOT_AUTHORIZED, Flag.NO_COST},
        "below margin": {Flag.BELOW_MARGIN},
    }


# -- what cannot be read: one line, the key and its line, exit 2 ---------------------------

BAD = [
    (BASE.replace("min_margin = 5", "min_margn = 5"), "line 7", "[pricing] min_margn: unknown key"),
    (
        BASE
        + '\n[[pricing.rules]]\nvendor = "A"\n\n[[pricing.rules]]\nvendor = "B"\nmarkup = "abc"\n',
        "line 14",
        "[[pricing.rules]] #2 markup: 'abc' is not a number",
    ),
    (
        BASE + '\n[[pricing.rules]]\ncategory = "X"\nmarkup = 5\nmargin = 5\n',
        "line 12",
        "give markup or margin, not both",
    ),
    (BASE.replace("markup = 20", "markup = 20\nmargin = 10"), "line 4", "not both"),
    (BASE + "\n[[pricing.rules]]\nmarkup = 5\n", "line 9", "matches nothing"),
    (BASE.replace('"0.99"', '"0.999"'), "line 4", "ending: '0.999' is not an ending"),
    (BASE + "\n[stock]\nbuffer = -1\n", "line 10", "[stock] buffer"),
    (BASE + '\n[targets.erp]\n"Net" = "prize"\n', "line 10", "'prize' is not a field"),
    (BASE + '\n[targets.magento]\n"x" = "sku"\n', "line 9", "built-in target"),
    ('[pricing]\nending = "0.99"\n', "line 1", "give markup"),
    (
        BASE + '\n[profiles.ca]\ncountry_code = "CA"\n[profiles.ca.pricing]\nmarkup = "lots"\n',
        "line 12",
        "[profiles.ca.pricing] markup",
    ),
]


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "INGRAM_SYNC_DB": str(tmp_path / "x.db")}
    return subprocess.run(
        [sys.executable, "-m", "ingram", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize(("text", "line", "words"), BAD)
def test_a_rule_that_cannot_be_read_is_one_line_with_its_key_and_line(
    tmp_path: Path, text: str, line: str, words: str
) -> None:
    config = write_config(tmp_path / "shop.toml", text)
    output = tmp_path / "shop.csv"
    profile = ("--profile", "ca") if "[profiles.ca]" in text else ()
    for args in (
        ("pricing", "preview"),
        ("export", "--target", "woocommerce", "-o", str(output)),
    ):
        done = run_cli(tmp_path, "--config", str(config), *profile, *args)
        assert done.returncode == 2, done.stderr
        [message] = done.stderr.splitlines()
        assert f"{config}, {line}:" in message and words in message, message
        assert "Traceback" not in done.stderr
    assert not output.exists() and not (tmp_path / "x.db").exists()  # nothing written


def test_shop_commands_need_price_rules(tmp_path: Path) -> None:
    config = write_config(tmp_path / "plain.toml", 'country_code = "US"\n')
    done = run_cli(tmp_path, "--config", str(config), "pricing", "preview")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "Error: no price rules: add a [pricing] section with markup or margin to the config"
        " file (see docs/shop.md)"
    )


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('delist_after_days = "soon"', "delist-after-days"),
        ("track_replacements = 3", "true or false"),
    ],
)
def test_replacement_settings_are_checked_too(tmp_path: Path, line: str, words: str) -> None:
    config = write_config(tmp_path / "c.toml", line + "\n")
    done = run_cli(tmp_path, "--config", str(config), "config", "show")
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


def test_replacement_settings_come_from_the_file_or_a_profile(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml",
        "delist_after_days = 10\n[profiles.eu]\ntrack_replacements = true\ndelist_after_days = 0\n",
    )
    shown = run_cli(tmp_path, "--config", str(config), "--profile", "eu", "config", "show")
    rows = {line.split()[0]: line.split()[1] for line in shown.stdout.splitlines()[2:]}
    assert (rows["track_replacements"], rows["delist_after_days"]) == ("True", "0")
    with pytest.raises(ConfigError):
        rules_from(tmp_path, "[pricing]\nmarkup = 1e400\n")
