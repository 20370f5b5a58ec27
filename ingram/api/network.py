"""The environment's network settings (proxies, CA bundle), read once for every session.

requests looks them up again on every call (its ``trust_env``): it scans the
whole environment for proxies twice a call and checks the CA bundle's path, and
urllib3 loads the bundle again for every new connection (20 % of a details
call's CPU, and 25 ms for each connection). Our sessions (``ingram.api.http``)
apply a ``Network`` read once when the session pool is built, with what
requests would have found:

- proxies as urllib reads them (``https_proxy``, ``http_proxy``, ``all_proxy``,
  lower case first, and ``no_proxy`` with its host suffixes, ``host:port``
  entries and IPv4 networks);
- the CA bundle, a file or a folder, from ``REQUESTS_CA_BUNDLE`` or
  ``CURL_CA_BUNDLE`` as requests reads them, else OpenSSL's ``SSL_CERT_FILE``,
  else certifi's (requests' own default), loaded into one TLS context the
  first time an https:// URL is called.

Example::

    network = Network.from_environment()
    network.proxies_for("https://api.ingrammicro.com/resellers/v6/catalog")
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import threading
import urllib.request
from collections.abc import Mapping

import certifi
import urllib3
from urllib3.util.ssl_ import create_urllib3_context

from ingram.errors import ApiUnavailable
from ingram.policy import Trigger

__all__ = ["CA_VARIABLES", "CaBundleError", "Network"]

# Where a CA bundle may be named, in the order they are believed.
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


class CaBundleError(ApiUnavailable):
    """The CA bundle the environment names cannot be loaded: a setting to fix (exit 2).

    An ``ApiUnavailable``: no call can be made, so the run stops at once.
    """

    trigger = Trigger.CA_BUNDLE_UNUSABLE


class Network:
    """Proxies and the CA bundle, as the environment set them when this was built."""

    def __init__(
        self, proxies: Mapping[str, str], no_proxy: str, ca_bundle: str, ca_source: str
    ) -> None:
        self.proxies = dict(proxies)  # scheme (or "all") -> proxy URL
        self.no_proxy = no_proxy
        self.ca_bundle = ca_bundle  # a file or a folder of certificates
        self.ca_source = ca_source  # the variable that named it ("" for certifi's)
        self._bypass: dict[tuple[str, int | None], bool] = {}  # (host, port) -> no proxy
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    @classmethod
    def from_environment(cls) -> Network:
        proxies = dict(urllib.request.getproxies())
        no_proxy = proxies.pop("no", "")
        for name in CA_VARIABLES:
            value = os.environ.get(name)
            if value:
                return cls(proxies, no_proxy, value, name)
        return cls(proxies, no_proxy, certifi.where(), "")

    def proxies_for(self, url: str) -> dict[str, str]:
        """The proxies for a call to ``url``: none when ``no_proxy`` names its host."""
        if not self.proxies:
            return {}
        parsed = urllib3.util.parse_url(url)
        host = (parsed.host or "").lower()
        key = (host, parsed.port)
        bypass = self._bypass.get(key)
        if bypass is None:  # decided once per host: the hosts of a run are one or two
            bypass = self._bypass[key] = self._bypasses(host, parsed.port)
        return {} if bypass else dict(self.proxies)

    def _bypasses(self, host: str, port: int | None) -> bool:
        """requests' reading of ``no_proxy``: ``*``, IPv4 networks, host suffixes, host:port."""
        entries = [entry for entry in self.no_proxy.replace(" ", "").lower().split(",") if entry]
        if "*" in entries:
            return True
        if any(_in_network(host, entry) for entry in entries):
            return True
        named = f"{host}:{port}" if port else host
        for entry in (entry.lstrip(".") for entry in entries):
            if entry in (host, named) or host.endswith("." + entry) or named.endswith("." + entry):
                return True
        return False

    def tls_context(self) -> ssl.SSLContext:
        """One context for every https connection, its CA bundle loaded the first time."""
        with self._lock:
            if self._tls is None:
                self._tls = self._load_tls()
            return self._tls

    def _load_tls(self) -> ssl.SSLContext:
        context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
        folder = os.path.isdir(self.ca_bundle)
        try:
            if folder:
                context.load_verify_locations(capath=self.ca_bundle)
            else:
                context.load_verify_locations(cafile=self.ca_bundle)
        except (OSError, ssl.SSLError) as error:
            named = f"{self.ca_source} names" if self.ca_source else "the default CA bundle is"
            if isinstance(error, ssl.SSLError):
                reason = "no certificate in it could be read"
            else:
                reason = error.strerror or str(error)
            raise CaBundleError(
                f"{named} {self.ca_bundle}, which cannot be loaded ({reason}):"
                " point it at a PEM file or a folder of certificates, or unset it"
            ) from None
        return context


def _in_network(host: str, entry: str) -> bool:
    """Whether ``host`` is an IPv4 address in ``entry``, a network such as ``10.0.0.0/8``
    (a mask of 1 to 32 bits, as requests reads them)."""
    try:
        address = ipaddress.IPv4Address(host)
        network = ipaddress.IPv4Network(entry, strict=False)
    except ValueError:
        return False
    return "/" in entry and network.prefixlen >= 1 and address in network
