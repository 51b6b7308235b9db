# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Stellar for the grid: exact amounts, TFT assets, Horizon access and readable Horizon failures.

Escrow payment itself (pay_escrow) lives in _payment.py; this file knows nothing about reservations.
Amounts are integers in stroops (1e-7) internally and 7-decimal strings at the edges; floats are
refused everywhere because 0.1 + 0.2 is not a price.

Horizon is read over httpx and a payment is signed by _stellar_envelope (pynacl): a paying task does not
import stellar-sdk. Only wallet steps that build other operations (trustlines) load it, through sdk().
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import random
import threading
import time
import traceback
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._crypto import require_nacl
from ansible_collections.threefold.grid.plugins.module_utils._errors import MissingLibraryError, StellarError, body_excerpt
# _explorer imports httpx (without its command-line client, see there) or records why it cannot.
from ansible_collections.threefold.grid.plugins.module_utils._explorer import HAS_HTTPX, HTTPX_IMPORT_ERROR
from ansible_collections.threefold.grid.plugins.module_utils._horizon_errors import describe_horizon_error, error_code
from ansible_collections.threefold.grid.plugins.module_utils._shared_reads import SharedReads, shared_read
from ansible_collections.threefold.grid.plugins.module_utils._stellar_envelope import (
    ASSET_CODE,
    Keypair,
    PaymentEnvelope,
    is_account_id,
)

if HAS_HTTPX:
    import httpx

DEFAULT_BASE_FEE = 100
DEFAULT_BASE_RESERVE = 5000000  # 0.5 XLM, the 2020 value
TX_TIMEOUT = 60  # seconds a signed envelope stays valid; bounds how long a resubmission can apply
PAGE_LIMIT = 200  # Horizon's maximum page size
READ_RETRIES = 5  # as the explorer client: reads are retried on 429, 5xx and lost connections
RETRY_STATUSES = (429, 500, 502, 503, 504)
DEFAULT_READ_TIMEOUT = 30.0
# What to check when a Horizon URL answers like something else (a web page, the explorer).
HORIZON_URL_HINT = ("check horizon_url (or TFGRID_HORIZON_URL) and network (TFGRID_NETWORK); horizon_url is the base "
                    "URL of a Horizon server, such as https://horizon.stellar.org or http://127.0.0.1:8080/stellar for "
                    "a localgrid")

# Issuers of the grid's assets on the public Stellar networks (tfexplorer v0.3.0 pkg/stellar).
# `dev` pays on the Stellar test network like `test`; `local` issuers come from localgrid itself.
KNOWN_ASSETS = {
    "main": {
        "TFT": "GBOVQKJYHXRR3DX6NOX2RRYFRCUMSADGDESTDNBDS6CDVLGVESRTAC47",
        "TFTA": "GBUT4GP5GJ6B3XW5PXENHQA7TXJI5GOPW3NF4W3ZIW6OOO4ISY6WNLN2",
        "FreeTFT": "GCBGS5TFE2BPPUVY55ZPEMWWGR6CLQ7T6P46SOFGHXEBJ34MSP6HVEUT",
    },
    "test": {
        "TFT": "GA47YZA3PKFUZMPLQ3B5F2E3CJIB57TGGU7SPCQT2WAEYKN766PWIMB3",
        "TFTA": "GB55A4RR4G2MIORJTQA4L6FENZU7K4W7ATGY6YOT2CW47M5SZYGYKSCT",
        "FreeTFT": "GBLDUINEFYTF7XEE7YNWA3JQS4K2VD37YU7I2YAE7R5AHZDKQXSS2J6R",
    },
}
KNOWN_ASSETS["dev"] = KNOWN_ASSETS["test"]
LOCALGRID_ASSET_CODES = ("TFT", "TFTA", "FreeTFT")


def require_libraries() -> None:
    """Fail with the missing library when a payment step runs without pynacl or httpx."""
    require_nacl()
    if not HAS_HTTPX:
        raise MissingLibraryError("httpx", HTTPX_IMPORT_ERROR)


def sdk():
    """stellar-sdk, loaded only by the wallet steps that build operations other than a payment."""
    require_libraries()
    try:
        import stellar_sdk
    except ImportError:
        raise MissingLibraryError("stellar-sdk", traceback.format_exc()) from None
    return stellar_sdk


def _stroop_int(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("%s must be an integer number of stroops, got %r" % (what, value))
    if value < 0:
        raise ValueError("%s is negative: %d" % (what, value))
    return value


def escrow_total_stroops(escrow: Dict[str, Any]) -> int:
    """What an escrow asks for, in stroops.

    `details` (explorer create response: per-farm `total_amount` in stroops) wins; otherwise `amount`,
    an integer in stroops (as the explorer's pool API sends it) or a decimal string in asset units.
    """
    details = escrow.get("details")
    if details:
        return sum(_stroop_int(item.get("total_amount"), "details[].total_amount") for item in details)
    amount = escrow.get("amount")
    if amount is None or amount == "":
        return 0
    if isinstance(amount, int) and not isinstance(amount, bool):
        return _stroop_int(amount, "amount")
    return amount_to_stroops(amount)


# ---- assets ----------------------------------------------------------------------------------

def parse_asset(text: str) -> Tuple[str, str]:
    """(code, issuer) of a `CODE:ISSUER` string, with the explorer's own validation messages."""
    parts = (text or "").split(":")
    if len(parts) != 2:
        raise ValueError("invalid amount of parts in asset string, got %d, expected 2" % len(parts))
    code, issuer = parts
    if not code:
        raise ValueError("missing code in asset")
    if not issuer:
        raise ValueError("missing issuer in asset")
    return code, issuer


def asset_of(record: Dict[str, Any], prefix: str = "") -> str:
    """`CODE:ISSUER` (or `XLM`) of a Horizon balance or payment record."""
    if record.get(prefix + "asset_type") == "native":
        return "XLM"
    return "%s:%s" % (record.get(prefix + "asset_code"), record.get(prefix + "asset_issuer"))


def resolve_asset(name: str, issuers: Dict[str, str]) -> str:
    """`CODE:ISSUER` for an asset code known in `issuers` ({code: issuer}), or a full asset string."""
    if ":" in name:
        parse_asset(name)
        return name
    if name not in issuers:
        raise ValueError("unknown asset code %r on this network (known: %s); give it as CODE:ISSUER"
                         % (name, ", ".join(sorted(issuers)) or "none"))
    return "%s:%s" % (name, issuers[name])


def localgrid_issuers(passphrase):
    """{code: issuer} of a localgrid: it derives each issuer's seed from a fixed label and its network
    passphrase (localgrid/stellar/assets.py), so every localgrid has the same, knowable issuers."""
    return dict(_derived_issuers(passphrase))


@functools.lru_cache(maxsize=4)
def _derived_issuers(passphrase):
    # Derived once per process: each key derivation costs a scalar multiplication, and zos_containers checks
    # every container's payment against these issuers.
    issuers = {}
    for code in LOCALGRID_ASSET_CODES:
        label = "localgrid issuer %s ; %s" % (code, passphrase)
        issuers[code] = Keypair.from_raw_seed(hashlib.sha256(label.encode()).digest()).public_key
    return issuers


def network_issuers(network: str, passphrase: str) -> Dict[str, str]:
    """{code: issuer} of the grid's assets on `network` (main/test/dev tables, localgrid derivation)."""
    if network == "local":
        return localgrid_issuers(passphrase)
    return dict(KNOWN_ASSETS[network])


def check_asset(asset: str) -> Tuple[str, str]:
    """(code, issuer) of a `CODE:ISSUER` Stellar asset, with a readable error for a bad code or issuer."""
    code, issuer = parse_asset(asset)
    if not ASSET_CODE.match(code):
        raise ValueError("asset %s is not a valid Stellar asset: the code must be 1 to 12 letters or digits" % asset)
    if not is_account_id(issuer):
        raise ValueError("asset %s is not a valid Stellar asset: the issuer is not an account id (G..., 56 "
                         "characters)" % asset)
    return code, issuer


def sdk_asset(asset):
    """stellar-sdk Asset from a `CODE:ISSUER` string (wallet trustlines), checked by check_asset first."""
    return sdk().Asset(*check_asset(asset))


def is_account_address(address: str) -> bool:
    """Whether `address` is a valid Stellar account id (G..., with its checksum)."""
    return is_account_id(address)


def keypair_from_secret(secret: Optional[str]) -> Keypair:
    """Keypair of a Stellar secret seed; the error never repeats the secret."""
    if not secret:
        raise StellarError("no Stellar wallet secret: set stellar_secret or TFGRID_STELLAR_SECRET", "missing_secret")
    try:
        return _keypair_of(secret.strip())
    except ValueError:
        raise StellarError("stellar_secret is not a valid Stellar secret seed (56 characters starting with S)",
                           "invalid_secret") from None


@functools.lru_cache(maxsize=8)
def _keypair_of(secret: str) -> Keypair:
    # One derivation per wallet and process, not one per container of zos_containers (the secret is in the
    # module's parameters for the whole run anyway); a refused secret raises and is not kept.
    return Keypair.from_secret(secret)


# ---- accounts --------------------------------------------------------------------------------

def balance_line(account, asset):
    """The account's balance entry for `CODE:ISSUER` (or `XLM`), or None."""
    for line in account.get("balances") or []:
        if asset_of(line) == asset:
            return line
    return None


def minimum_balance_stroops(account, base_reserve):
    """Native balance an account must keep: (2 + subentries + sponsoring - sponsored) x base reserve."""
    entries = 2 + int(account.get("subentry_count") or 0)
    entries += int(account.get("num_sponsoring") or 0) - int(account.get("num_sponsored") or 0)
    return entries * base_reserve


def free_xlm(account, base_reserve):
    """Stroops of XLM the account (a Horizon record) can spend above its minimum balance."""
    native = balance_line(account, "XLM")
    return (spendable_stroops(native) if native else 0) - minimum_balance_stroops(account, base_reserve)


def spendable_stroops(line):
    return amount_to_stroops(line.get("balance", "0")) - amount_to_stroops(line.get("selling_liabilities") or "0")


def check_payment_possible(payer: Optional[Dict[str, Any]], escrow: Optional[Dict[str, Any]], asset: str, stroops: int,
                           fee_stroops: int, base_reserve: int) -> None:
    """Fail clearly, before signing anything, when Horizon would reject the payment.

    `payer`/`escrow` are Horizon account records (None when the account does not exist).
    """
    check_payer(payer, asset, stroops, fee_stroops, base_reserve)
    if escrow is None:
        raise StellarError("the escrow account does not exist on this Stellar network (wrong network or horizon_url?)",
                           "escrow_missing")
    check_escrow_account(escrow, asset, stroops)


def check_payer(payer: Optional[Dict[str, Any]], asset: str, stroops: int, fee_stroops: int, base_reserve: int) -> None:
    """Fail clearly when the paying account (a Horizon record, None if missing) cannot send `stroops` of `asset`."""
    code, issuer = parse_asset(asset)
    if payer is None:
        raise StellarError("the paying Stellar account does not exist; fund it with XLM first", "payer_missing")
    address = payer.get("account_id") or payer.get("id")
    native_free = free_xlm(payer, base_reserve)
    if native_free < fee_stroops:
        raise StellarError(
            "account %s cannot pay the %s XLM fee: its spendable XLM above the minimum balance is %s"
            % (address, stroops_to_amount(fee_stroops), stroops_to_amount(max(0, native_free))), "fee_underfunded")
    if address != issuer:
        line = balance_line(payer, asset)
        if line is None:
            raise StellarError("account %s has no trustline for %s; add one first (threefold.grid.zos_wallet)"
                               % (address, asset), "no_trustline")
        available = spendable_stroops(line)
        if available < stroops:
            raise StellarError("account %s has %s %s but the payment needs %s"
                               % (address, stroops_to_amount(available), code, stroops_to_amount(stroops)),
                               "underfunded")


def check_escrow_account(escrow: Dict[str, Any], asset: str, stroops: int) -> None:
    """Fail clearly when the escrow account (a Horizon record) cannot receive `stroops` of `asset`."""
    code, issuer = parse_asset(asset)
    escrow_address = escrow.get("account_id") or escrow.get("id")
    if escrow_address != issuer:
        line = balance_line(escrow, asset)
        if line is None:
            raise StellarError("the escrow account %s has no trustline for %s, so it cannot receive it"
                               % (escrow_address, asset), "escrow_no_trust")
        room = amount_to_stroops(line.get("limit") or "0") - amount_to_stroops(line.get("balance") or "0") \
            - amount_to_stroops(line.get("buying_liabilities") or "0")
        if room < stroops:
            raise StellarError("the escrow account %s cannot hold %s more %s (trustline limit reached)"
                               % (escrow_address, stroops_to_amount(stroops), code), "escrow_line_full")


# ---- Horizon access --------------------------------------------------------------------------

class HttpClient:
    """GET and form POST over httpx; a lost connection raises ConnectionError (tests pass their own client)."""

    def __init__(self, timeout):
        self._http = httpx.Client(timeout=timeout, headers={"Accept": "application/json"})
        # Kept for every Horizon object of the process that shares this client: what does not change during a task
        # (the network a Horizon URL serves, its fees, an escrow account: _shared_reads.py), and what
        # _payment_history knows of the paying wallets.
        self.shared_reads = SharedReads()
        self.histories: Dict[Tuple[str, str], Any] = {}
        self.wallet_records: Dict[Tuple[str, str], Dict[str, Any]] = {}

    def _send(self, method, url, **kwargs):
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise ConnectionError(str(exc) or exc.__class__.__name__) from None

    def get(self, url, params=None):
        return self._send("GET", url, params=params)

    def post(self, url, data=None):
        return self._send("POST", url, data=data)


def new_http_client():
    """HTTP client for Horizon; None means the process's shared HttpClient. Tests replace this."""
    return None


_SHARED_CLIENTS: Dict[float, HttpClient] = {}
_SHARED_CLIENTS_LOCK = threading.Lock()


def shared_http_client(timeout: float) -> HttpClient:
    """One HttpClient per timeout for the task's process: a paying task talks to Horizon through several
    Horizon objects (the checks, the payment), and each new httpx client costs an SSL context. httpx clients
    may be shared by threads (zos_containers): their connection pool takes a lock."""
    with _SHARED_CLIENTS_LOCK:
        if timeout not in _SHARED_CLIENTS:
            _SHARED_CLIENTS[timeout] = HttpClient(timeout)
        return _SHARED_CLIENTS[timeout]


def _body(response):
    try:
        return response.json()
    except ValueError:
        return {}


def _transient(error):
    """A StellarError that a repeated request may not meet again: a lost connection, 429 or a 5xx."""
    return error.code == "horizon_unreachable" or (error.failure or {}).get("status") in RETRY_STATUSES


class Horizon:
    """The few Horizon calls the grid needs, with failures turned into StellarError."""

    def __init__(self, url, client=None, sleep=time.sleep, timeout=None, retries=READ_RETRIES):
        require_libraries()
        self.url = url.rstrip("/")
        client = client if client is not None else new_http_client()
        self.client = client if client is not None else shared_http_client(timeout or DEFAULT_READ_TIMEOUT)
        self.sleep = sleep
        self.retries = retries

    def _call(self, what, path, params=None):
        """GET a Horizon path: its JSON, or StellarError (horizon_unreachable, or Horizon's problem)."""
        try:
            response = self.client.get(self.url + path, params)
        except ConnectionError as exc:
            raise StellarError("cannot reach Horizon at %s while %s: %s" % (self.url, what, exc),
                               "horizon_unreachable", {"url": self.url}) from None
        if 200 <= response.status_code < 300:
            try:
                return response.json()
            except ValueError:  # a web page or another service answered
                raise StellarError("%s answered with something that is not JSON (%s) while %s, so it is not a Horizon "
                                   "server: %s" % (self.url, body_excerpt(response.text or ""), what, HORIZON_URL_HINT),
                                   "not_horizon", {"url": self.url}) from None
        raise _failure(response, what)

    def _read(self, what, path, params=None):
        """``_call`` for a read, retried on 429, 5xx and lost connections with jittered exponential backoff."""
        for attempt in range(self.retries + 1):
            try:
                return self._call(what, path, params)
            except StellarError as exc:
                if not _transient(exc) or attempt == self.retries:
                    raise
            self._backoff(attempt)

    def _backoff(self, attempt):
        self.sleep(min(8.0, 0.5 * 2 ** attempt) * random.uniform(0.5, 1.0))

    def network_passphrase(self) -> str:
        """The passphrase of the Stellar network this Horizon serves, from its root document (read once per
        process when the client is the shared one: a URL does not change networks during a task)."""
        return shared_read(self.client, (self.url, "passphrase"), self._served_passphrase)

    def _served_passphrase(self) -> str:
        try:
            root = self._read("reading its root document", "/")
        except StellarError as exc:
            if (exc.failure or {}).get("status") == 404:
                raise StellarError("%s answered HTTP 404 for its root document, so it is not a Horizon server: %s"
                                   % (self.url, HORIZON_URL_HINT), "not_horizon", {"url": self.url}) from None
            raise
        passphrase = root.get("network_passphrase") if isinstance(root, dict) else None
        if not passphrase:
            raise StellarError("%s answered its root document without a network_passphrase, so it is not a Horizon "
                               "server: %s" % (self.url, HORIZON_URL_HINT), "not_horizon", {"url": self.url})
        return passphrase

    def _read_or_none(self, what, path):
        """``_read``, but None when Horizon answers 404 (no such account or transaction)."""
        try:
            return self._read(what, path)
        except StellarError as exc:
            if exc.failure.get("status") == 404:
                return None
            raise

    def account(self, address: str) -> Optional[Dict[str, Any]]:
        """Account record, or None when the account does not exist."""
        return self._read_or_none("loading account %s" % address, "/accounts/" + address)

    def fees(self) -> Tuple[int, int]:
        """(base fee, base reserve) in stroops from the latest ledger, read once per process with the shared client:
        both are network parameters that change by a validators' vote, not during a task."""
        return shared_read(self.client, (self.url, "fees"), self._latest_fees)

    def _latest_fees(self) -> Tuple[int, int]:
        page = self._read("reading the latest ledger", "/ledgers", {"order": "desc", "limit": "1"})
        records = ((page or {}).get("_embedded") or {}).get("records") or []
        if not records:
            return DEFAULT_BASE_FEE, DEFAULT_BASE_RESERVE
        ledger = records[0]
        return (int(ledger.get("base_fee_in_stroops") or DEFAULT_BASE_FEE),
                int(ledger.get("base_reserve_in_stroops") or DEFAULT_BASE_RESERVE))

    def _payments_page(self, address: str, cursor: Optional[str]) -> Optional[List[Dict[str, Any]]]:
        """One page of payment records touching `address`, newest first, transactions joined; None on 404."""
        params = {"join": "transactions", "order": "desc", "limit": str(PAGE_LIMIT)}
        if cursor is not None:
            params["cursor"] = cursor
        try:
            page = self._read("listing the recent payments of %s" % address, "/accounts/%s/payments" % address, params)
        except StellarError as exc:
            if exc.failure.get("status") == 404:
                return None
            raise
        return ((page or {}).get("_embedded") or {}).get("records") or []

    def latest_payments(self, address: str) -> List[Dict[str, Any]]:
        """The newest page of payment records touching `address` (transactions joined)."""
        return self._payments_page(address, None) or []

    def recent_payments(self, address: str, since: int) -> List[Dict[str, Any]]:
        """Successful payment records touching `address` created at or after Unix time `since`, newest first,
        with their transaction joined: a payer's recent history, not an escrow's whole one."""
        records: List[Dict[str, Any]] = []
        cursor = None
        while True:
            batch = self._payments_page(address, cursor)
            if batch is None:
                return records
            for record in batch:
                if created_epoch(record) < since:
                    return records
                records.append(record)
            if len(batch) < PAGE_LIMIT:
                return records
            cursor = batch[-1]["paging_token"]

    def payments_after(self, address: str, cursor: str) -> List[Dict[str, Any]]:
        """Successful payment records touching `address` after paging token `cursor`, oldest first, with their
        transaction joined (Horizon lists them in ledger order, so these are exactly the ones added since)."""
        records: List[Dict[str, Any]] = []
        while True:
            params = {"join": "transactions", "order": "asc", "limit": str(PAGE_LIMIT), "cursor": cursor}
            page = self._read("listing the new payments of %s" % address, "/accounts/%s/payments" % address, params)
            batch = ((page or {}).get("_embedded") or {}).get("records") or []
            records.extend(batch)
            if len(batch) < PAGE_LIMIT:
                return records
            cursor = batch[-1]["paging_token"]

    def transaction(self, tx_hash: str) -> Optional[Dict[str, Any]]:
        """Transaction record by hash, or None when Horizon does not know it."""
        return self._read_or_none("looking up transaction %s" % tx_hash, "/transactions/" + tx_hash)

    def get_json(self, path, params, what):
        """GET a path below the Horizon URL once, not retried (friendbot, faucet)."""
        return self._call(what, path, params)

    def fund(self, path, params, what, applied):
        """GET a funding path (friendbot, faucet). Not idempotent: after a 5xx or a lost answer, which say
        nothing about whether it applied, ``applied()`` reads the account before the request is sent again."""
        for attempt in range(self.retries + 1):
            try:
                return self.get_json(path, params, what)
            except StellarError as exc:
                if not _transient(exc) or attempt == self.retries:
                    raise
            self._backoff(attempt)
            if applied():
                return None

    def load_account(self, address):
        """The stellar-sdk Account (address and sequence number) of an existing account, for wallet steps."""
        return sequence_account(self._read("loading account %s" % address, "/accounts/" + address))

    def submit(self, envelope, attempts=3, lookup_attempts=3, pause=2.0):
        """Submit a signed envelope (anything with to_xdr() and hash_hex()) exactly once; the transaction record.

        An answer that is lost (connection error, timeout, 5xx) says nothing about the ledger, so the
        hash is looked up first and the *same* envelope resubmitted only if it is unknown: its
        sequence number makes a second application impossible. A tx_bad_seq or tx_too_late answer
        can mean an earlier attempt applied, so those are resolved by hash as well.
        """
        tx_hash = envelope.hash_hex()
        form = {"tx": envelope.to_xdr()}
        for attempt in range(attempts):
            try:
                response = self.client.post(self.url + "/transactions", form)
            except ConnectionError:
                response = None
            if response is not None and 200 <= response.status_code < 300:
                return _body(response)
            if response is not None and 400 <= response.status_code < 500:
                error = _failure(response, "submitting transaction %s" % tx_hash)
                tx_code = (error.failure.get("result_codes") or {}).get("transaction")
                if tx_code in ("tx_bad_seq", "tx_too_late"):
                    record = self._settled(tx_hash, lookup_attempts, pause)
                    if record is not None:
                        return record
                error.failure["transaction_hash"] = tx_hash
                raise error
            record = self._settled(tx_hash, lookup_attempts, pause)
            if record is not None:
                return record
            if attempt + 1 < attempts:
                self.sleep(pause)
        raise StellarError(
            "transaction %s was submitted %d times without a confirmation and Horizon does not know it; nothing "
            "was paid by it as far as Horizon can tell. Re-run: earlier payments are found by memo" % (tx_hash, attempts),
            "unconfirmed", {"transaction_hash": tx_hash})

    def _settled(self, tx_hash, attempts, pause):
        """The applied transaction for `tx_hash`, None if Horizon does not know it; failed ones raise."""
        for attempt in range(attempts):
            try:
                record = self.transaction(tx_hash)
            except StellarError as exc:
                if exc.code != "horizon_unreachable" and (exc.failure.get("status") or 0) < 500:
                    raise
                if attempt + 1 == attempts:
                    raise StellarError("lost the confirmation of transaction %s and cannot look it up: %s; re-run "
                                       "(it is applied at most once)" % (tx_hash, exc.msg), "unconfirmed",
                                       {"transaction_hash": tx_hash}) from None
                self.sleep(pause)
                continue
            if record is not None and record.get("successful") is False:
                raise StellarError("transaction %s failed on the ledger (%s); the fee was charged"
                                   % (tx_hash, failed_result_names(record.get("result_xdr"))), "tx_failed",
                                   {"transaction_hash": tx_hash, "result_xdr": record.get("result_xdr")})
            return record
        return None


def _failure(response, what) -> StellarError:
    """The StellarError of a Horizon answer that is not a success (its problem+json body, if any)."""
    message, failure = describe_horizon_error(_body(response), response.status_code)
    return StellarError("%s while %s" % (message, what), error_code(failure), failure)


def created_epoch(record: Dict[str, Any]) -> float:
    """Unix time of a Horizon record's `created_at` (ISO 8601, UTC); records without one count as new."""
    text = record.get("created_at")
    if not text:
        return float("inf")
    return _epoch_of(text[:19])


@functools.lru_cache(maxsize=4096)
def _epoch_of(text: str) -> float:
    # Cached: a task paying many reservations filters the same payment records once per payment.
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()


def failed_result_names(result_xdr):
    """Readable result codes of a TransactionResult XDR (best effort)."""
    try:
        result = sdk().xdr.TransactionResult.from_xdr(result_xdr).result
    except Exception:  # pylint: disable=broad-except
        return "result unknown"
    names = [result.code.name]
    for item in result.results or []:
        inner = getattr(item, "tr", None)
        payment = getattr(inner, "payment_result", None) if inner is not None else None
        if payment is not None:
            names.append(payment.code.name)
    return ", ".join(names)


def sequence_account(record: Dict[str, Any]) -> Any:
    """The stellar-sdk Account (address and sequence number) of a Horizon account record."""
    return sdk().Account(record.get("account_id") or record["id"], int(record["sequence"]))


def payment_envelope(payer: Dict[str, Any], passphrase: str, base_fee: int, memo: str, destination: str, asset: str,
                     stroops: int, operation_source: Optional[str] = None) -> PaymentEnvelope:
    """An unsigned transaction paying `stroops` of `asset` to `destination` with a text memo, on the next sequence
    number of `payer` (its Horizon record), valid for TX_TIMEOUT seconds; from `operation_source` when given
    (`payer` is then a payment channel, docs/CONCURRENCY.md)."""
    code, issuer = check_asset(asset)
    return PaymentEnvelope(payer.get("account_id") or payer["id"], int(payer["sequence"]) + 1, base_fee, memo,
                           int(time.time()) + TX_TIMEOUT, destination, code, issuer, stroops, passphrase,
                           operation_source)


def build_transaction(account: Any, passphrase: str, base_fee: int, memo: Optional[str] = None) -> Any:
    """A stellar-sdk TransactionBuilder for `account` (a stellar-sdk Account) with our timeout and memo."""
    builder = sdk().TransactionBuilder(source_account=account, network_passphrase=passphrase, base_fee=base_fee)
    if memo is not None:
        builder.add_text_memo(memo)
    return builder.set_timeout(TX_TIMEOUT)
