"""Settings precedence and validation; CSV import and atomic export."""

from __future__ import annotations

import io
import json
import logging

import pytest

from ingram.config import client_settings, load_settings
from ingram.config.values import parse_duration
from ingram.errors import ConfigError, InputError
from ingram.inputs import read_part_numbers
from ingram.output.exports import atomic_output, write_export

CREDENTIALS = {
    "INGRAM_CLIENT_ID": "id-from-env",
    "INGRAM_CLIENT_SECRET": "s3cret-sentinel",
    "INGRAM_CUSTOMER_NUMBER": "20-222222",
}


def test_flag_beats_environment_beats_file_beats_default(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('pa_rate = 30\ndetails_interval = 2\ncustomer_number = "20-111111"\n')
    config.chmod(0o600)
    settings = load_settings({"pa_rate": "90"}, CREDENTIALS, str(config))
    assert settings.pa_rate == 90.0  # flag
    assert settings.customer_number == "20-222222"  # environment over file
    assert settings.details_interval == 2.0  # file over default
    assert settings.timeout == 30.0  # default
    assert "s3cret-sentinel" not in repr(settings)


@pytest.mark.parametrize(
    "missing", ["INGRAM_CLIENT_ID", "INGRAM_CLIENT_SECRET", "INGRAM_CUSTOMER_NUMBER"]
)
def test_each_missing_credential_is_named(missing):
    env = {k: v for k, v in CREDENTIALS.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        client_settings(load_settings({}, env))


@pytest.mark.parametrize(
    "flags, message",
    [
        ({"batch_size": "0"}, "batch-size: must be between 1 and 50"),
        ({"batch_size": "51"}, "batch-size: must be between 1 and 50"),
        ({"max_concurrent": "-1"}, "max-concurrent"),
        ({"max_concurrent": "0"}, "max-concurrent"),
        ({"details_max_age": "soon"}, "not a duration"),
        ({"pa_rate": "0"}, "pa-rate: must be a number above 0"),
        ({"pa_retry_waits": "1,x"}, "not a duration"),
    ],
)
def test_bad_option_values_name_the_option(flags, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(flags, CREDENTIALS)


def test_durations():
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration("30m") == 1800
    assert parse_duration("45") == 45
    with pytest.raises(ConfigError):
        parse_duration("-5")


def test_config_file_errors_and_world_readable_secret_warning(tmp_path, caplog):
    bad = tmp_path / "bad.toml"
    bad.write_text("client_id = [unclosed")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({}, {}, str(bad))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({}, {}, str(tmp_path / "absent.toml"))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings({}, {}, str(unknown))
    shared = tmp_path / "shared.toml"
    shared.write_text('client_secret = "s3cret-sentinel"\n')
    shared.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="ingram"):
        load_settings({}, {}, str(shared))
    assert "other users can read it" in caplog.text
    assert "s3cret-sentinel" not in caplog.text


def read(text: bytes):
    return read_part_numbers(io.BytesIO(text), "f.csv")


def test_csv_with_column_bom_crlf_and_rejected_lines():
    data = "\ufeffname,ingramPartNumber\r\nx,6YE881\r\ny,BAD PART\r\nz,4A0036\r\nw," + "A" * 30
    result = read(data.encode())
    assert result.part_numbers == ["6YE881", "4A0036"]
    assert [(line, reason) for line, _, reason in result.rejected] == [
        (3, "not a part number"),
        (5, "too long"),
    ]


def test_single_column_without_header_and_with_header():
    assert read(b"6YE881\n4A0036\n").part_numbers == ["6YE881", "4A0036"]
    assert read(b"sku\n6YE881\n").part_numbers == ["6YE881"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "is empty"),
        (b"ingramPartNumber\n", "no part numbers"),
        (b"a,b\n1,2\n", "no ingramPartNumber column"),
        (bytes(range(256)) * 4, "not UTF-8|binary"),
    ],
)
def test_broken_csv_files(data, message):
    with pytest.raises(InputError, match=message):
        read(data)


def test_export_formats_and_atomic_output(tmp_path):
    from decimal import Decimal

    rows = [{"ingram_part_number": "A1", "customer_price": Decimal("74.34"), "available": True}]
    out = io.StringIO()
    write_export(rows, "json", out)
    assert json.loads(out.getvalue())[0]["customer_price"] == 74.34
    assert "74.34" in out.getvalue() and "74.33" not in out.getvalue()
    target = tmp_path / "out.jsonl"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as handle:
        handle.write("partial")
        raise RuntimeError("crash mid-export")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_part_numbers_from_the_command_line_are_normalised_and_checked():
    from ingram.inputs import part_numbers_from_args

    assert part_numbers_from_args(["6ye881", " 6YE881", "4a0036"]) == ["6YE881", "4A0036"]
    with pytest.raises(InputError, match="not a part number: ''"):
        part_numbers_from_args([""])
    assert read(b"6ye881\n").part_numbers == ["6YE881"]


def test_zero_details_interval_is_accepted_in_any_spelling():
    for zero in ("0", "0.0", 0):
        assert load_settings({"details_interval": zero}, CREDENTIALS).details_interval == 0.0


TWO_COUNTRIES = """
client_id = "shared-app"
client_secret = "top-secret"
customer_number = "20-111111"
db = "shared.db"
pa_rate = 30

[profiles.us]
db = "us.db"

[profiles.ca]
customer_number = "40-222222"
country_code = "CA"
client-secret = "ca-secret"
"""


def write_config(tmp_path, text=TWO_COUNTRIES, mode=0o600):
    config = tmp_path / "c.toml"
    config.write_text(text)
    config.chmod(mode)
    return str(config)


def test_profile_section_overrides_the_file_and_keeps_its_own_database(tmp_path):
    config = write_config(tmp_path)
    ca = load_settings({"profile": "ca"}, {}, config)
    assert (ca.customer_number, ca.country_code) == ("40-222222", "CA")
    assert ca.client_secret == "ca-secret"
    assert ca.client_id == "shared-app" and ca.pa_rate == 30.0  # inherited from the file
    assert ca.db == "ingram_sync_ca.db"  # never the shared database
    assert ca.profile == "ca"
    us = load_settings({}, {"INGRAM_PROFILE": "us"}, config)
    assert (us.db, us.customer_number, us.profile) == ("us.db", "20-111111", "us")
    plain = load_settings({}, {}, config)
    assert (plain.db, plain.profile) == ("shared.db", None)


def test_environment_and_flags_still_beat_the_profile(tmp_path):
    config = write_config(tmp_path)
    env = {"INGRAM_PROFILE": "ca", "INGRAM_COUNTRY_CODE": "US"}
    settings = load_settings({"profile": "us", "db": "flag.db"}, env, config)
    assert (settings.profile, settings.db, settings.country_code) == ("us", "flag.db", "US")


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("mx", TWO_COUNTRIES, r"profile 'mx' is not in config file .*profiles there: ca, us"),
        ("mx", "client_id = 'x'\n", r"profiles there: none\); add a \[profiles.mx\] section"),
        ("../etc", TWO_COUNTRIES, "letters, digits"),
        ("us2", TWO_COUNTRIES + "\n[profiles.us2]\npa_rat = 3\n", "unknown setting 'pa_rat'"),
        ("us", TWO_COUNTRIES.replace('db = "us.db"', "pa_rate = 0"), "pa-rate: must be"),
    ],
)
def test_a_wrong_profile_is_one_clear_error(tmp_path, name, text, message):
    config = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_settings({"profile": name}, {}, config)


def test_a_secret_in_a_readable_profile_is_warned_about(tmp_path, caplog):
    text = 'client_id = "x"\n[profiles.ca]\nclient_secret = "ca-secret"\n'
    config = write_config(tmp_path, text, mode=0o644)
    with caplog.at_level(logging.WARNING, logger="ingram.config"):
        load_settings({"profile": "ca"}, {}, config)
    assert "other users can read it" in caplog.text and "ca-secret" not in caplog.text


def test_a_broken_neighbour_profile_does_not_matter(tmp_path):
    config = write_config(tmp_path, TWO_COUNTRIES + "\n[profiles.us2]\npa_rat = 3\n")
    assert load_settings({"profile": "us"}, {}, config).db == "us.db"


def test_the_profile_is_chosen_by_flag_or_environment_not_in_the_file(tmp_path):
    config = write_config(tmp_path, 'profile = "ca"\n' + TWO_COUNTRIES)
    with pytest.raises(ConfigError, match="--profile NAME or INGRAM_PROFILE"):
        load_settings({}, {}, config)
