# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""HTTP client for the ThreeFold Grid v2 explorer (legacy reservation API, tfexplorer v0.3.x)."""

from __future__ import annotations

import datetime
import email.utils
import json
import random
import sys
import time
import traceback
from typing import Any, Dict, List, Optional, Union
from urllib.parse import quote

from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, ExplorerNotFound, body_excerpt
from ansible_collections.threefold.grid.plugins.module_utils._tls import verify_option
from ansible_collections.threefold.grid.plugins.module_utils._version import COLLECTION_VERSION

# httpx's package init also imports its command-line client, which loads click and rich when they are
# installed: about half of httpx's import time, paid by every task, for a CLI no task uses. A None entry
# makes that optional import fail the way httpx expects when they are missing (it then skips the CLI).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
try:
    import httpx
except ImportError:
    HAS_HTTPX = False
    HTTPX_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_HTTPX = True
    HTTPX_IMPORT_ERROR = None


GRID_NETWORKS = {
    "main": {
        "explorer_url": "https://explorer.grid.tf/explorer",
        "horizon_url": "https://horizon.stellar.org",
        "network_passphrase": "Public Global Stellar Network ; September 2015",
    },
    "test": {
        "explorer_url": "https://explorer.testnet.grid.tf/explorer",
        "horizon_url": "https://horizon-testnet.stellar.org",
        "network_passphrase": "Test SDF Network ; September 2015",
    },
    "dev": {
        "explorer_url": "https://explorer.devnet.grid.tf/explorer",
        "horizon_url": "https://horizon-testnet.stellar.org",
        "network_passphrase": "Test SDF Network ; September 2015",
    },
    "local": {
        "explorer_url": "http://127.0.0.1:8080/explorer",
        "horizon_url": "http://127.0.0.1:8080/stellar",
        "network_passphrase": "Localgrid Stellar Network ; threefold.grid",
    },
}

NEXT_ACTION = {"create": 0, "sign": 1, "pay": 2, "deploy": 3, "delete": 4, "invalid": 5, "deleted": 6}
NEXT_ACTION_NAMES = dict((value, name) for name, value in NEXT_ACTION.items())

USER_AGENT = "ansible-threefold.grid/%s" % COLLECTION_VERSION

# What to check when the explorer URL answers like something else (a web page, another API).
URL_HINT = ("check explorer_url (or TFGRID_EXPLORER_URL) and network (TFGRID_NETWORK); explorer_url is the API "
            "base, such as https://explorer.grid.tf/explorer or http://127.0.0.1:8080/explorer for a localgrid")

# 500 too: tfexplorer answers 500 for a failed database call, which a repeated read may not meet again.
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
MAX_PAGE_SIZE = 1000  # the explorer caps `size` at 1000
MAX_PAGES = 100000  # guards against a garbage Pages header (the explorer can send one, see docs/contract/explorer.md §1.4)


def _json_error(text):
    """The ``error`` of an explorer error body, None when the body is not one."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return str(body["error"]) if isinstance(body, dict) and body.get("error") else None


def _error_message(response):
    """The explorer's error text: JSON {"error": ...}, or the plain body of router 404/405 replies."""
    text = response.text.strip()
    if text:
        error = _json_error(text)
        return error if error is not None else body_excerpt(text)
    return ("%s %s" % (response.status_code, response.reason_phrase or "error")).strip()


def _retry_after_seconds(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def _without_none(mapping):
    return dict((key, value) for key, value in mapping.items() if value is not None)


class ExplorerClient:
    """Explorer calls with timeouts, retries for safe requests, pagination and one error type."""

    def __init__(self, base_url, connect_timeout=10.0, read_timeout=30.0, retries=5, validate_certs=True,
                 transport=None, sleep=time.sleep, backoff_base=0.5, backoff_max=30.0, retry_after_max=60.0):
        if not HAS_HTTPX:
            raise ExplorerError("the httpx Python library is required", method="", path="")
        self.base_url = base_url.rstrip("/")
        self.retries = max(0, int(retries))
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            verify=verify_option(self.base_url, validate_certs),
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ---- transport -------------------------------------------------------------------------

    def _backoff(self, attempt):
        # Full jitter keeps parallel playbook runs from retrying in lockstep.
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return random.uniform(ceiling / 2.0, ceiling)

    def back_off(self, attempt: int) -> None:
        """The pause before the caller's own next ``attempt`` (0, 1, ...) of a request it may repeat."""
        self._sleep(self._backoff(attempt))

    def _retry_delay(self, response, attempt):
        delay = _retry_after_seconds(response.headers.get("Retry-After"))
        if delay is None:
            return self._backoff(attempt)
        return min(delay, self.retry_after_max)

    def request(self, method: str, path: str, params: Optional[Dict[str, Any]] = None, body: Any = None,
                retry_safe: Optional[bool] = None, headers: Optional[Dict[str, str]] = None) -> "httpx.Response":
        """Send one request and return the httpx response (status < 400).

        GET is always retried on transport errors and 429/500/502/503/504; other methods only when
        `retry_safe` is true, because repeating a non-idempotent call could create twice.
        """
        method = method.upper()
        path = "/" + path.lstrip("/")
        retry = method == "GET" if retry_safe is None else bool(retry_safe)
        kwargs = {}
        if params:
            kwargs["params"] = _without_none(params)
        if body is not None:
            kwargs["json"] = body
        if headers:
            kwargs["headers"] = headers
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path.lstrip("/"), **kwargs)
            except httpx.TransportError as exc:
                if retry and attempt < self.retries:
                    self._sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise ExplorerError(
                    "cannot reach the explorer at %s: %s" % (self.base_url, exc or exc.__class__.__name__),
                    method=method, path=path) from exc
            if response.status_code in RETRY_STATUSES and retry and attempt < self.retries:
                self._sleep(self._retry_delay(response, attempt))
                attempt += 1
                continue
            if response.status_code == 404 and _json_error(response.text) is None:
                # Only the router answers 404 without a JSON error: the path itself is unknown there, which
                # says the URL is wrong, not that the node, user or reservation asked for is missing.
                raise ExplorerError("%s answered HTTP 404 (%s) for %s %s, a path every explorer serves: %s" % (
                    self.base_url, _error_message(response), method, path, URL_HINT),
                    status=404, method=method, path=path)
            if response.status_code >= 400:
                error_class = ExplorerNotFound if response.status_code == 404 else ExplorerError
                raise error_class(_error_message(response), status=response.status_code, method=method, path=path)
            return response

    def _decode(self, response, method, path):
        text = response.text.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise ExplorerError("%s answered %s %s with something that is not JSON (%s), so it is not a ThreeFold "
                                "explorer: %s" % (self.base_url, method, path, body_excerpt(text), URL_HINT),
                                status=response.status_code, method=method, path=path) from None

    def call(self, method: str, path: str, params: Optional[Dict[str, Any]] = None, body: Any = None,
             retry_safe: Optional[bool] = None, headers: Optional[Dict[str, str]] = None) -> Any:
        """Send one request and return its decoded JSON body (None for an empty or `null` body)."""
        response = self.request(method, path, params=params, body=body, retry_safe=retry_safe, headers=headers)
        return self._decode(response, method.upper(), "/" + path.lstrip("/"))

    def get(self, path: str, params: Optional[Dict[str, Any]] = None, headers: Optional[Dict[str, str]] = None) -> Any:
        return self.call("GET", path, params=params, headers=headers)

    def post(self, path: str, body: Any, retry_safe: bool = False) -> Any:
        return self.call("POST", path, body=body, retry_safe=retry_safe)

    def put(self, path: str, body: Any, retry_safe: bool = False) -> Any:
        return self.call("PUT", path, body=body, retry_safe=retry_safe)

    def delete(self, path: str, retry_safe: bool = False) -> Any:
        return self.call("DELETE", path, retry_safe=retry_safe)

    def get_all(self, path: str, params: Optional[Dict[str, Any]] = None, page_size: int = 100) -> List[Any]:
        """Every item of a paginated list endpoint, following the `Pages` header."""
        page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
        items = []
        page = 1
        while page <= MAX_PAGES:
            query = dict(params or {})
            query.update({"page": page, "size": page_size})
            response = self.request("GET", path, params=query)
            batch = self._decode(response, "GET", "/" + path.lstrip("/")) or []
            if not isinstance(batch, list):
                raise ExplorerError("expected a JSON list, got %s" % type(batch).__name__,
                                    status=response.status_code, method="GET", path="/" + path.lstrip("/"))
            items.extend(batch)
            try:
                pages = int(response.headers.get("Pages", "1"))
            except ValueError:
                pages = 1
            # A short page is the last one whatever Pages says: v0.3.0 computes Pages for /farms
            # from the node collection, so it can overshoot.
            if page >= pages or len(batch) < page_size:
                break
            page += 1
        return items

    # ---- phonebook ---------------------------------------------------------------------------

    def get_user(self, tid: int, headers: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
        """A phonebook user; pass Identity.http_signature_headers(tid) to see the email on v0.3.2 explorers."""
        return self.get("/users/%d" % int(tid), headers=headers)

    def find_users(self, name: Optional[str] = None, email: Optional[str] = None) -> List[Dict[str, Any]]:
        return self.get_all("/users", params=_without_none({"name": name, "email": email}))

    def create_user(self, name: str, email: str, pubkey_hex: str, description: str = "", host: str = "") -> Any:
        """Register a user. v0.3.0 stores only name, email and pubkey; update the rest with update_user."""
        body = {"name": name, "email": email, "pubkey": pubkey_hex, "description": description, "host": host}
        return self.post("/users", body)

    def update_user(self, tid: int, fields: Dict[str, str], signature_hex: str) -> Any:
        body = dict(fields)
        body["sender_signature_hex"] = signature_hex
        # Replaying the same signed update leaves the same record, so it is safe to retry.
        return self.put("/users/%d" % int(tid), body, retry_safe=True)

    # ---- directory ---------------------------------------------------------------------------

    def get_farm(self, farm_id: int) -> Dict[str, Any]:
        return self.get("/farms/%d" % int(farm_id))

    def list_farms(self, **filters: Any) -> List[Dict[str, Any]]:
        """Farms; filters `owner` (threebot id) and `name` as in GET /farms."""
        return self.get_all("/farms", params=_without_none(filters))

    def get_node(self, node_id: str) -> Dict[str, Any]:
        return self.get("/nodes/%s" % quote(str(node_id), safe=""))

    def list_nodes(self, **filters: Any) -> List[Dict[str, Any]]:
        """Nodes; filters `farm`, `country`, `city`, `cru`, `mru`, `sru`, `hru` (total ≥ value), `proofs`."""
        params = _without_none(filters)
        for key, value in list(params.items()):
            if isinstance(value, bool):
                params[key] = "true" if value else "false"
        return self.get_all("/nodes", params=params)

    # ---- reservations ------------------------------------------------------------------------

    def create_reservation(self, body: Dict[str, Any]) -> Dict[str, Any]:
        """POST /reservations -> {"reservation_id", "escrow_information"}. Never retried: not idempotent."""
        return self.post("/reservations", body, retry_safe=False)

    def get_reservation(self, rid: int) -> Dict[str, Any]:
        return self.get("/reservations/%d" % int(rid))

    def list_reservations(self, customer_tid: Optional[int] = None, next_action: Union[int, str, None] = None,
                          page_size: int = 100) -> List[Dict[str, Any]]:
        if isinstance(next_action, str):
            next_action = NEXT_ACTION[next_action]
        return self.get_all("/reservations", params=_without_none(
            {"customer_tid": customer_tid, "next_action": next_action}), page_size=page_size)

    def _sign(self, rid, kind, tid, signature_hex):
        body = {"tid": int(tid), "signature": signature_hex, "epoch": int(time.time())}
        # The explorer replaces an earlier signature of the same tid, so a retry is harmless.
        return self.post("/reservations/%d/sign/%s" % (int(rid), kind), body, retry_safe=True)

    def sign_delete(self, rid: int, tid: int, signature_hex: str) -> Any:
        return self._sign(rid, "delete", tid, signature_hex)
