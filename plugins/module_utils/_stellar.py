# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Stellar for the grid: exact amounts, TFT assets, Horizon access and readable Horizon failures.

Escrow payment itself (pay_escrow) lives in _payment.py; this file knows nothing about reservations.
Amounts are integers in stroops (1e-7) internally and 7-decimal strings at the edges; floats are
refused everywhere because 0.1 + 0.2 is not a price.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import time
import traceback
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
from ansible_collections.threefold.grid.plugins.module_utils._errors import MissingLibraryError, StellarError, body_excerpt
from ansible_collections.threefold.grid.plugins.module_utils._horizon_errors import horizon_failure

try:
    from stellar_sdk import Account, Asset, Keypair, Server, StrKey, TransactionBuilder
    from stellar_sdk import exceptions as sdk_exceptions
    from stellar_sdk.client.requests_client import RequestsClient
    from stellar_sdk import xdr as stellar_xdr
except ImportError:
    HAS_STELLAR_SDK = False
    STELLAR_SDK_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_STELLAR_SDK = True
    STELLAR_SDK_IMPORT_ERROR = None

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


def require_sdk() -> None:
    """Fail with the missing library when a payment or wallet step runs without stellar-sdk."""
    if not HAS_STELLAR_SDK:
        raise MissingLibraryError("stellar-sdk", STELLAR_SDK_IMPORT_ERROR)


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
    issuers = {}
    for code in LOCALGRID_ASSET_CODES:
        label = "localgrid issuer %s ; %s" % (code, passphrase)
        issuers[code] = Keypair.from_raw_ed25519_seed(hashlib.sha256(label.encode()).digest()).public_key
    return issuers


def network_issuers(network: str, passphrase: str) -> Dict[str, str]:
    """{code: issuer} of the grid's assets on `network` (main/test/dev tables, localgrid derivation)."""
    if network == "local":
        return localgrid_issuers(passphrase)
    return dict(KNOWN_ASSETS[network])


def sdk_asset(asset):
    """stellar-sdk Asset from a `CODE:ISSUER` string, with a readable error for a bad code or issuer."""
    code, issuer = parse_asset(asset)
    try:
        return Asset(code, issuer)
    except (sdk_exceptions.AssetCodeInvalidError, sdk_exceptions.AssetIssuerInvalidError,
            sdk_exceptions.Ed25519PublicKeyInvalidError, ValueError) as exc:
        raise ValueError("asset %s is not a valid Stellar asset: %s" % (asset, exc)) from None


def is_account_address(address: str) -> bool:
    """Whether `address` is a valid Stellar account id (G..., with its checksum)."""
    return isinstance(address, str) and StrKey.is_valid_ed25519_public_key(address)


def keypair_from_secret(secret: Optional[str]) -> "Keypair":
    """Keypair of a Stellar secret seed; the error never repeats the secret."""
    if not secret:
        raise StellarError("no Stellar wallet secret: set stellar_secret or TFGRID_STELLAR_SECRET", "missing_secret")
    try:
        return Keypair.from_secret(secret.strip())
    except (sdk_exceptions.Ed25519SecretSeedInvalidError, ValueError):
        raise StellarError("stellar_secret is not a valid Stellar secret seed (56 characters starting with S)",
                           "invalid_secret") from None


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
    native = balance_line(payer, "XLM")
    native_free = (spendable_stroops(native) if native else 0) - minimum_balance_stroops(payer, base_reserve)
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

def new_http_client():
    """HTTP client for stellar-sdk; None means its default RequestsClient. Tests replace this."""
    return None


def _transient(error):
    """A StellarError that a repeated request may not meet again: a lost connection, 429 or a 5xx."""
    return error.code == "horizon_unreachable" or (error.failure or {}).get("status") in RETRY_STATUSES


class Horizon:
    """The few Horizon calls the grid needs, with stellar-sdk errors turned into StellarError."""

    def __init__(self, url, client=None, sleep=time.sleep, timeout=None, retries=READ_RETRIES):
        self.url = url.rstrip("/")
        client = client if client is not None else new_http_client()
        # Our own retries replace the SDK's, which skip 500 and 502 and ignore our timeout.
        self.client = client if client is not None else RequestsClient(
            num_retries=0, request_timeout=timeout or DEFAULT_READ_TIMEOUT)
        self.server = Server(self.url, client=self.client)
        self._sleep = sleep
        self.retries = retries

    def _call(self, what, func):
        try:
            return func()
        except sdk_exceptions.ConnectionError as exc:
            raise StellarError("cannot reach Horizon at %s while %s: %s" % (self.url, what, exc),
                               "horizon_unreachable", {"url": self.url}) from None
        except sdk_exceptions.BaseHorizonError as exc:
            error = horizon_failure(exc)
            error.msg = "%s while %s" % (error.msg, what)
            raise error from None
        except ValueError as exc:  # the body was not JSON: a web page or another service answered
            raise StellarError("%s answered with something that is not JSON (%s) while %s, so it is not a Horizon "
                               "server: %s" % (self.url, body_excerpt(getattr(exc, "doc", "") or ""), what, HORIZON_URL_HINT),
                               "not_horizon", {"url": self.url}) from None

    def _read(self, what, func):
        """``_call`` for a read, retried on 429, 5xx and lost connections with jittered exponential backoff."""
        for attempt in range(self.retries + 1):
            try:
                return self._call(what, func)
            except StellarError as exc:
                if not _transient(exc) or attempt == self.retries:
                    raise
            self._backoff(attempt)

    def _backoff(self, attempt):
        self._sleep(min(8.0, 0.5 * 2 ** attempt) * random.uniform(0.5, 1.0))

    def network_passphrase(self) -> str:
        """The passphrase of the Stellar network this Horizon serves, from its root document."""
        try:
            root = self._read("reading its root document", lambda: self.server.root().call())
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

    def _call_or_none(self, what, func):
        """``_read``, but None when Horizon answers 404 (no such account or transaction)."""
        try:
            return self._read(what, func)
        except StellarError as exc:
            if exc.failure.get("status") == 404:
                return None
            raise

    def account(self, address: str) -> Optional[Dict[str, Any]]:
        """Account record, or None when the account does not exist."""
        return self._call_or_none("loading account %s" % address,
                                  lambda: self.server.accounts().account_id(address).call())

    def fees(self) -> Tuple[int, int]:
        """(base fee, base reserve) in stroops from the latest ledger."""
        page = self._read("reading the latest ledger", lambda: self.server.ledgers().order(desc=True).limit(1).call())
        records = ((page or {}).get("_embedded") or {}).get("records") or []
        if not records:
            return DEFAULT_BASE_FEE, DEFAULT_BASE_RESERVE
        ledger = records[0]
        return (int(ledger.get("base_fee_in_stroops") or DEFAULT_BASE_FEE),
                int(ledger.get("base_reserve_in_stroops") or DEFAULT_BASE_RESERVE))

    def _payments_page(self, address: str, cursor: Optional[str]) -> Optional[List[Dict[str, Any]]]:
        """One page of payment records touching `address`, newest first, transactions joined; None on 404."""
        def page_call():
            builder = (self.server.payments().for_account(address).join("transactions").order(desc=True)
                       .limit(PAGE_LIMIT))
            return builder.cursor(cursor).call() if cursor is not None else builder.call()
        try:
            page = self._read("listing the recent payments of %s" % address, page_call)
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
                if _created_epoch(record) < since:
                    return records
                records.append(record)
            if len(batch) < PAGE_LIMIT:
                return records
            cursor = batch[-1]["paging_token"]

    def transaction(self, tx_hash: str) -> Optional[Dict[str, Any]]:
        """Transaction record by hash, or None when Horizon does not know it."""
        return self._call_or_none("looking up transaction %s" % tx_hash,
                                  lambda: self.server.transactions().transaction(tx_hash).call())

    def get_json(self, path, params, what):
        """GET a path below the Horizon URL that the SDK has no builder for (friendbot, faucet)."""
        def call():
            response = self.client.get(self.url + path, params)
            sdk_exceptions.raise_request_exception(response)
            return response.json()
        return self._call(what, call)

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
        return self._read("loading account %s" % address, lambda: self.server.load_account(address))

    def submit(self, envelope, attempts=3, lookup_attempts=3, pause=2.0):
        """Submit a signed envelope exactly once and return the transaction record.

        An answer that is lost (connection error, timeout, 5xx) says nothing about the ledger, so the
        hash is looked up first and the *same* envelope resubmitted only if it is unknown: its
        sequence number makes a second application impossible. A tx_bad_seq or tx_too_late answer
        can mean an earlier attempt applied, so those are resolved by hash as well.
        """
        tx_hash = envelope.hash_hex()
        for attempt in range(attempts):
            try:
                return self.server.submit_transaction(envelope, skip_memo_required_check=True)
            except sdk_exceptions.BadRequestError as exc:
                error = horizon_failure(exc)
                tx_code = (error.failure.get("result_codes") or {}).get("transaction")
                if tx_code in ("tx_bad_seq", "tx_too_late"):
                    record = self._settled(tx_hash, lookup_attempts, pause)
                    if record is not None:
                        return record
                error.failure["transaction_hash"] = tx_hash
                raise error from None
            except (sdk_exceptions.ConnectionError, sdk_exceptions.BadResponseError,
                    sdk_exceptions.UnknownRequestError):
                record = self._settled(tx_hash, lookup_attempts, pause)
                if record is not None:
                    return record
                if attempt + 1 < attempts:
                    self._sleep(pause)
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
                self._sleep(pause)
                continue
            if record is not None and record.get("successful") is False:
                raise StellarError("transaction %s failed on the ledger (%s); the fee was charged"
                                   % (tx_hash, failed_result_names(record.get("result_xdr"))), "tx_failed",
                                   {"transaction_hash": tx_hash, "result_xdr": record.get("result_xdr")})
            return record
        return None


def _created_epoch(record: Dict[str, Any]) -> float:
    """Unix time of a Horizon record's `created_at` (ISO 8601, UTC); records without one count as new."""
    text = record.get("created_at")
    if not text:
        return float("inf")
    return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def failed_result_names(result_xdr):
    """Readable result codes of a TransactionResult XDR (best effort)."""
    try:
        result = stellar_xdr.TransactionResult.from_xdr(result_xdr).result
    except Exception:  # pylint: disable=broad-except
        return "result unknown"
    names = [result.code.name]
    for item in result.results or []:
        inner = getattr(item, "tr", None)
        payment = getattr(inner, "payment_result", None) if inner is not None else None
        if payment is not None:
            names.append(payment.code.name)
    return ", ".join(names)


def sequence_account(record: Dict[str, Any]) -> "Account":
    """The stellar-sdk Account (address and sequence number) of a Horizon account record."""
    return Account(record.get("account_id") or record["id"], int(record["sequence"]))


def build_transaction(account: Any, passphrase: str, base_fee: int, memo: Optional[str] = None) -> "TransactionBuilder":
    """A TransactionBuilder for `account` (a loaded stellar-sdk Account) with our timeout and memo."""
    builder = TransactionBuilder(source_account=account, network_passphrase=passphrase, base_fee=base_fee)
    if memo is not None:
        builder.add_text_memo(memo)
    return builder.set_timeout(TX_TIMEOUT)
