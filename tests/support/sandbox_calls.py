"""Raw calls to the sandbox, as the vendor's own examples make them (no client of ours)."""

from __future__ import annotations

from typing import Any

import requests

from ingram.sandbox import SandboxServer

PA_PATH = (
    "/resellers/v6/catalog/priceandavailability"
    "?includeAvailability=true&includePricing=true&includeProductAttributes=true"
)
CREDS = {
    "grant_type": "client_credentials",
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
}


def get_token(server: SandboxServer, session: requests.Session | None = None) -> str:
    response = (session or requests).post(server.url + "/oauth/oauth20/token", data=CREDS)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def api_headers(token: str, **overrides: str) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {token}",
        "IM-CustomerNumber": "20-222222",
        "IM-CountryCode": "US",
        "IM-CorrelationID": "c0ffee",
        "IM-SenderID": "tests",
    }
    headers.update(overrides)
    return {k: v for k, v in headers.items() if v is not None}


def pa_call(sandbox: SandboxServer, body: dict[str, Any]) -> requests.Response:
    """A raw P&A call to the sandbox, as the vendor's own examples make it."""
    headers = api_headers(get_token(sandbox))
    return requests.post(sandbox.url + PA_PATH, json=body, headers=headers, timeout=5)
