"""Horizon-compatible HTTP routes (the subset stellar-sdk 16's Server uses), mounted at /stellar.

Routes only translate HTTP to the ledger (writes, ledger.py) and its queries (reads, queries.py),
and rows to Horizon JSON (records.py). Status codes stay within 200/400/404 so stellar-sdk's
requests client never retries (it does on 413/429/503/504).
"""

import asyncio
import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from . import envelope, faucet, records, state
from .amounts import MAX_INT64
from .assets import NETWORK_PASSPHRASE, is_account_id
from .paging import Page
from .problems import bad_request, not_found, transaction_failed, transaction_malformed
from .queries import LedgerQueries, UnknownTransaction
from .validation import TransactionRejected
from .web import base_url, hal, problems

MAX_LEDGER_SEQUENCE = 2**32 - 1  # ledger sequences are uint32 on Stellar


def _links(base):
    return {
        "account": {"href": base + "/accounts/{account_id}", "templated": True},
        "ledger": {"href": base + "/ledgers/{sequence}", "templated": True},
        "transaction": {"href": base + "/transactions/{hash}", "templated": True},
        "transactions": {"href": base + "/transactions{?cursor,limit,order}", "templated": True},
        "fee_stats": {"href": base + "/fee_stats"},
        "friendbot": {"href": base + "/friendbot{?addr}", "templated": True},
        "self": {"href": base + "/"},
    }


class Horizon:
    def __init__(self, ledger, ledger_close_interval=0.0):
        self.ledger = ledger
        self.queries = LedgerQueries(ledger.store)
        self.ledger_close_interval = ledger_close_interval

    async def _query(self, name, *args, **kwargs):
        """Run a LedgerQueries method in a worker thread; an unknown transaction hash is a 404."""
        try:
            return await run_in_threadpool(getattr(self.queries, name), *args, **kwargs)
        except UnknownTransaction:
            raise not_found() from None

    async def _found(self, name, *args):
        row = await self._query(name, *args)
        if row is None:
            raise not_found()
        return row

    # ---- root, ledgers, fees -----------------------------------------------------------------

    @problems
    async def root(self, request):
        latest = await self._query("latest_ledger")
        return hal({
            "_links": _links(base_url(request)),
            "horizon_version": "localgrid",
            "core_version": "localgrid",
            "ingest_latest_ledger": latest["sequence"],
            "history_latest_ledger": latest["sequence"],
            "history_latest_ledger_closed_at": records.iso(latest["closed_at"]),
            "history_elder_ledger": 1,
            "core_latest_ledger": latest["sequence"],
            "network_passphrase": NETWORK_PASSPHRASE,
            "current_protocol_version": 20,
            "supported_protocol_version": 20,
            "core_supported_protocol_version": 20,
        })

    @problems
    async def ledgers(self, request):
        page, base = Page(request), base_url(request)
        rows = await self._query("ledgers", page)
        return hal(page.envelope([records.ledger(base, row) for row in rows]))

    @problems
    async def one_ledger(self, request):  # not `ledger`: that is the Ledger this Horizon serves
        sequence = _int_param(request, "sequence", MAX_LEDGER_SEQUENCE)
        return hal(records.ledger(base_url(request), await self._found("ledger", sequence)))

    @problems
    async def fee_stats(self, request):
        latest = await self._query("latest_ledger")
        fee = str(state.BASE_FEE)
        percentiles = {key: fee for key in ("max", "min", "mode", "p10", "p20", "p30", "p40", "p50", "p60",
                                             "p70", "p80", "p90", "p95", "p99")}
        return hal({
            "last_ledger": str(latest["sequence"]),
            "last_ledger_base_fee": fee,
            "ledger_capacity_usage": "0.01",
            "fee_charged": percentiles,
            "max_fee": dict(percentiles),
        })

    # ---- accounts ------------------------------------------------------------------------------

    @problems
    async def account(self, request):
        row, trustlines = await self._found("account", _account_param(request))
        return hal(records.account(base_url(request), row, trustlines))

    # ---- transactions --------------------------------------------------------------------------

    @problems
    async def transactions(self, request):
        account_id = _account_param(request) if "account_id" in request.path_params else None
        ledger = _int_param(request, "sequence", MAX_LEDGER_SEQUENCE) if "sequence" in request.path_params else None
        page, base = Page(request), base_url(request)
        rows = await self._query("transactions", page, account_id=account_id, ledger=ledger)
        return hal(page.envelope([records.transaction(base, row) for row in rows]))

    @problems
    async def transaction(self, request):
        row = await self._found("transaction", request.path_params["tx_hash"])
        return hal(records.transaction(base_url(request), row))

    @problems
    async def submit(self, request):
        form = urllib.parse.parse_qs((await request.body()).decode("utf-8", errors="replace"))
        envelope_xdr = (form.get("tx") or [""])[0]
        if not envelope_xdr:
            raise bad_request("tx", "Transaction is missing")
        await self._next_ledger_close()
        try:
            # On the event loop, as the explorer's writes are: a worker thread costs a hand-over each way,
            # and a payer's next payment waits for both (its payments are sequential, its sequence number).
            outcome, row = self._submit_and_read(envelope_xdr)
        except envelope.MalformedTransaction:
            raise transaction_malformed(envelope_xdr) from None
        except TransactionRejected as rejected:
            raise transaction_failed(envelope_xdr, rejected.result_xdr, rejected.result_codes) from None
        if not outcome.successful:
            raise transaction_failed(envelope_xdr, outcome.result_xdr, outcome.result_codes)
        if row is None:
            raise not_found()
        return hal(records.transaction(base_url(request), row))

    async def _next_ledger_close(self):
        """Wait for the next ledger close, as a submission to Horizon does (it answers once a ledger holds the
        transaction): one account's transactions, each built on the previous one's answer, apply one per close."""
        interval = self.ledger_close_interval
        if interval > 0:
            await asyncio.sleep(interval - asyncio.get_running_loop().time() % interval)

    def _submit_and_read(self, envelope_xdr):
        """Apply, then read the applied transaction (None when it failed)."""
        outcome = self.ledger.submit(envelope_xdr)
        return outcome, self.queries.transaction(outcome.hash) if outcome.successful else None

    # ---- operations, payments, effects ---------------------------------------------------------

    @problems
    async def operations(self, request):
        return await self._operations(request, payments_only=False)

    @problems
    async def payments(self, request):
        return await self._operations(request, payments_only=True)

    async def _operations(self, request, payments_only):
        page, base = Page(request), base_url(request)
        account_id = _account_param(request) if "account_id" in request.path_params else None
        found = await self._query(
            "operations", page, account_id=account_id, tx_hash=request.path_params.get("tx_hash"),
            payments_only=payments_only, with_transactions=page.join == "transactions",
        )
        return hal(page.envelope([
            records.operation(base, row, None if tx is None else records.transaction(base, tx)) for row, tx in found
        ]))

    @problems
    async def operation(self, request):
        row = await self._found("operation", _int_param(request, "op_id", MAX_INT64))
        return hal(records.operation(base_url(request), row))

    @problems
    async def effects(self, request):
        page, base = Page(request, composite_cursor=True), base_url(request)
        account_id = _account_param(request) if "account_id" in request.path_params else None
        op_id = _int_param(request, "op_id", MAX_INT64) if "op_id" in request.path_params else None
        rows = await self._query("effects", page, account_id=account_id, tx_hash=request.path_params.get("tx_hash"),
                                 op_id=op_id)
        return hal(page.envelope([records.effect(base, row) for row in rows]))


def _account_param(request: Request):
    account_id = request.path_params["account_id"]
    if not is_account_id(account_id):
        raise bad_request("account_id", "Account ID must start with `G` and contain 56 alphanum characters")
    return account_id


def _int_param(request, name, maximum):
    text = request.path_params[name]
    if not (text.isascii() and text.isdigit()) or int(text) > maximum:
        raise bad_request(name, "must be an integer between 0 and %d" % maximum)
    return int(text)


def routes(ledger, ledger_close_interval=0.0):
    """The Starlette routes of the Horizon subset, friendbot and faucet (relative to the /stellar mount);
    submissions apply at the next ledger close, every ``ledger_close_interval`` seconds (0: at once)."""
    h = Horizon(ledger, ledger_close_interval)
    account = "/accounts/{account_id}"
    tx = "/transactions/{tx_hash}"
    return [
        Route("/", h.root),
        Route("/ledgers", h.ledgers),
        Route("/ledgers/{sequence}", h.one_ledger),
        Route("/ledgers/{sequence}/transactions", h.transactions),
        Route("/fee_stats", h.fee_stats),
        Route(account, h.account),
        Route(account + "/transactions", h.transactions),
        Route(account + "/operations", h.operations),
        Route(account + "/payments", h.payments),
        Route(account + "/effects", h.effects),
        Route("/transactions", h.transactions, methods=["GET"]),
        Route("/transactions", h.submit, methods=["POST"]),
        Route(tx, h.transaction),
        Route(tx + "/operations", h.operations),
        Route(tx + "/payments", h.payments),
        Route(tx + "/effects", h.effects),
        Route("/operations", h.operations),
        Route("/operations/{op_id}", h.operation),
        Route("/operations/{op_id}/effects", h.effects),
        Route("/payments", h.payments),
        Route("/effects", h.effects),
    ] + faucet.routes(ledger)
