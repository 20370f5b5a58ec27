"""Issue 10 §9: the client and the sandbox against the vendor's own material.

Every request the client sends, and every answer the sandbox gives, in a sync
against the realistic sandbox go through a recording proxy and are validated
with openapi-core against Ingram's own OpenAPI spec, vendored in
``tests/vendor/ingram-openapi`` (MIT, see its README). The deliberate
exceptions, where the portal or the spec's own examples contradict its
schema, are the ones in ``SPEC_EXCEPTIONS``. One test drives the sandbox with
Ingram's official Python SDK (``xi-sdk-resellers``), a client nobody here wrote.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from support.clirunner import Cli, cli_env

SPEC_FILE = Path(__file__).parent / "vendor" / "ingram-openapi" / "reseller-catalog-v6.yaml"
SPEC_HOST = "https://api.ingrammicro.com:443"

SPEC_EXCEPTIONS = {
    # The portal POSTs a form to the token URL; the spec shows a GET with query
    # parameters. The client does as the portal says: its request is checked as
    # the spec's GET with the same fields, its answer against the GET's schema.
    "token request method": "POST form, validated as the spec's GET",
    "the spec itself": "integer parameters with string defaults ('1'): not validated itself",
}
# Answer fields whose value the spec's own examples give against its schema: the
# last elements of the field's path, and why it is allowed.
ANSWER_EXCEPTIONS = {
    ("additionalInformation", "netWeight"): "null in the details examples, not nullable",
}


@dataclass
class Exchange:
    method: str
    path: str  # with the query
    headers: dict[str, str]
    body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


class RecordingProxy:
    """Forwards every call to ``target`` and keeps both sides of it."""

    def __init__(self, target: str) -> None:
        self.exchanges: list[Exchange] = []
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = requests.request(
                    self.command, target + self.path, headers=headers, data=body, timeout=10
                )
                with lock:
                    proxy.exchanges.append(
                        Exchange(self.command, self.path, headers, body, answer.status_code,
                                 dict(answer.headers), answer.content)
                    )  # fmt: skip
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = _forward  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="module")
def spec() -> OpenAPI:
    # The spec fails its own validation (``default: '1'`` on integers): check answers, not it.
    return OpenAPI.from_file_path(str(SPEC_FILE), config=Config(spec_validator_cls=None))


def as_spec_request(exchange: Exchange) -> RequestsOpenAPIRequest:
    """The exchange as the spec's host would have seen it (the token as its GET form)."""
    method, path, body, headers = exchange.method, exchange.path, exchange.body, exchange.headers
    if path.startswith("/oauth/") and method == "POST":
        method, path, body = "GET", f"{path}?{body.decode()}", b""
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    prepared = requests.Request(method, SPEC_HOST + path, headers=headers, data=body).prepare()
    return RequestsOpenAPIRequest(prepared)


def as_spec_response(exchange: Exchange) -> RequestsOpenAPIResponse:
    response = requests.Response()
    response.status_code = exchange.status
    response.headers.update(exchange.response_headers)
    response._content = exchange.response_body
    return RequestsOpenAPIResponse(response)


# openapi-core checks no OAuth2 scheme (the spec's security): it says so once per request.
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")
def test_a_realistic_sync_keeps_to_the_vendors_spec(sandbox_factory, tmp_path, spec):
    server = sandbox_factory(realistic=True, catalog_size=120)
    proxy = RecordingProxy(server.url)
    try:
        cli = Cli(cli_env(proxy.url, tmp_path / "c.db"), tmp_path / "c.db")
        pns = server.catalog.part_numbers(120)
        assert cli.run("products", "add", *pns, "ZZNOTREAL1").code == 0
        assert cli.sync("--batch-size", "20").code == 0
        vendor = server.catalog.search_row(0)["vendorName"]
        assert cli.run("products", "discover", "--vendor", vendor, "--dry-run").code == 0
    finally:
        proxy.stop()
    kinds = {"details" if "/details/" in e.path else e.path.split("?")[0] for e in proxy.exchanges}
    assert len(kinds) == 4, kinds  # token, P&A, details, search
    problems = [
        problem for exchange in proxy.exchanges for problem in spec_problems(spec, exchange)
    ]
    assert not problems, "\n".join(problems[:20])


def spec_problems(spec: OpenAPI, exchange: Exchange) -> list[str]:
    """What the spec says is wrong with the request and with its answer (less the exceptions)."""
    request = as_spec_request(exchange)
    where = f"{exchange.method} {exchange.path[:60]} -> {exchange.status}"
    problems = []
    try:
        spec.validate_request(request)
    except Exception as exc:  # collected: one report of every difference
        problems.append(f"{where} request: {why(exc)}")
    try:
        spec.validate_response(request, as_spec_response(exchange))
    except Exception as exc:
        reasons = why(exc)
        if reasons:
            problems.append(f"{where} answer: {reasons}")
    return problems


def why(exc: BaseException) -> str:
    """openapi-core's reasons, down to the schema errors, less the known exceptions."""
    cause = exc.__cause__ or exc
    errors = getattr(cause, "schema_errors", None)
    if errors is None:
        return repr(cause)[:300]
    kept = [
        f"{list(e.absolute_path)}: {e.message[:120]}"
        for e in errors
        if not any(
            tuple(str(p) for p in e.absolute_path)[-len(suffix) :] == suffix
            for suffix in ANSWER_EXCEPTIONS
        )
    ]
    return "; ".join(kept[:3])


@pytest.mark.slow
def test_ingrams_official_sdk_drives_the_sandbox(sandbox_factory):
    """Token, search, details and P&A through ``xi-sdk-resellers``, a client nobody here wrote."""
    from xi.sdk.resellers import AccesstokenApi, ApiClient, Configuration, ProductCatalogApi
    from xi.sdk.resellers.models import PriceAndAvailabilityRequest

    server = sandbox_factory(realistic=True, catalog_size=50)
    config = Configuration(host=server.url)
    with ApiClient(config) as api:
        token = AccesstokenApi(api).get_accesstoken(
            "client_credentials", "sandbox-client", "sandbox-secret"
        )
        config.access_token = token.access_token
        catalog = ProductCatalogApi(api)
        headers = {"im_customer_number": "20-222222", "im_country_code": "US"}
        pns = server.catalog.part_numbers(50)
        vendor = server.catalog.search_row(0)["vendorName"]
        found = catalog.get_reseller_v6_productsearch(
            im_correlation_id=uuid4().hex, page_number=1, page_size=10, vendor=[vendor], **headers
        )
        assert found.catalog and all(row.vendor_name == vendor for row in found.catalog)
        with_details = next(pn for pn in pns if server.catalog.details_document(pn))
        details = catalog.get_reseller_v6_productdetail(
            with_details, im_correlation_id=uuid4().hex, **headers
        )
        assert details.ingram_part_number == with_details
        vendor_pn = server.catalog.details_document(with_details)["vendorPartNumber"]
        by_query = catalog.get_reseller_v6_productdetailcmp(
            im_correlation_id=uuid4().hex, vendor_part_number=vendor_pn, **headers
        )  # the query form: /catalog/details?vendorPartNumber=
        assert by_query.vendor_part_number == vendor_pn
        two = [server.catalog.search_row(i)["vendorPartNumber"] for i in (0, 1)]
        searched = catalog.get_reseller_v6_productsearch(
            im_correlation_id=uuid4().hex, type="IM::physical", vendor_part_number=two, **headers
        )  # the array in the SDK's form, the type in the spec's enum
        assert {row.vendor_part_number for row in searched.catalog} == set(two)
        # The SDK's models reject a numeric warehouseId (the spec's examples' form): the
        # sandbox sends the schema's string, so it reads every P&A answer, warehouses and all.
        priced = pns[:20]
        request = PriceAndAvailabilityRequest.from_dict(
            {"products": [{"ingramPartNumber": pn} for pn in priced]}
        )
        items = catalog.post_priceandavailability(
            True, True, im_correlation_id=uuid4().hex, include_product_attributes=True,
            price_and_availability_request=request, **headers,
        )  # fmt: skip
    assert [item.ingram_part_number for item in items] == priced
    stocked = [item for item in items if item.availability.availability_by_warehouse]
    assert len(stocked) == len(priced)
    assert all(
        isinstance(stock.warehouse_id, str)
        for item in stocked
        for stock in item.availability.availability_by_warehouse
    )
    calls = server.stats()["calls"]
    assert (calls["token"], calls["search"], calls["details"]) == (1, 2, 2)
    assert calls["price_and_availability"] == 1
