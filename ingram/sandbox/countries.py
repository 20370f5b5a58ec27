"""The countries the sandbox serves, and each one's currency.

Ingram prices in the currency of the country a call names (``IM-CountryCode``);
a country it does not serve is refused. The list is the sandbox's own reading
of where Ingram Micro sells (a guess: no public list gives the API's), each
with its ISO 4217 currency.
"""

from __future__ import annotations

_SERVED = """
    US:USD CA:CAD MX:MXN BR:BRL CO:COP CL:CLP PE:PEN AR:ARS UY:UYU CR:CRC GT:GTQ DO:DOP
    SV:USD PA:USD PR:USD EC:USD
    GB:GBP IE:EUR DE:EUR AT:EUR CH:CHF FR:EUR BE:EUR NL:EUR LU:EUR ES:EUR PT:EUR IT:EUR
    SE:SEK DK:DKK NO:NOK FI:EUR PL:PLN CZ:CZK SK:EUR HU:HUF RO:RON HR:EUR SI:EUR TR:TRY
    AE:AED SA:SAR EG:EGP ZA:ZAR MA:MAD EH:MAD
    AU:AUD NZ:NZD IN:INR SG:SGD MY:MYR TH:THB ID:IDR PH:PHP VN:VND HK:HKD CN:CNY
"""
CURRENCIES: dict[str, str] = dict(pair.split(":") for pair in _SERVED.split())
DEFAULT_COUNTRY = "US"


def served(country: str | None) -> bool:
    """Whether the sandbox serves ``country`` (an ``IM-CountryCode``)."""
    return (country or "").strip().upper() in CURRENCIES


def currency_of(country: str | None) -> str:
    """The currency prices are given in for ``country`` (US dollars where none is known)."""
    return CURRENCIES.get((country or DEFAULT_COUNTRY).strip().upper(), "USD")
