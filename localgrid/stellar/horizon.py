"""Horizon-compatible HTTP routes (the subset stellar-sdk 16's Server uses), mounted at /stellar.

Routes only translate HTTP to the ledger and rows to Horizon JSON; the rules live in ledger.py.
Status codes stay within 200/400/404 so stellar-sdk's requests client never retries (it does on
413/429/503/504).
"""

import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from . import envelope, faucet, records, state
from .assets import NETWORK_PASSPHRASE, is_account_id
from .paging import Page
from .problems import bad_request, not_found, transaction_failed, transaction_malformed
from .validation import TransactionRejected
from .web import base_url, hal, problems

_PAYMENT_TYPES = ("create_account", "payment", "path_payment_strict_receive", "path_payment_strict_send",
                  "account_merge")
_TX_SELECT = "SELECT t.* FROM stellar_transactions t"
_OP_SELECT = ("SELECT o.*, t.hash, t.successful, t.created_at FROM stellar_operations o "
              "JOIN stellar_transactions t ON t.id = o.tx_id")
_EFFECT_SELECT = "SELECT e.*, t.created_at FROM stellar_effects e JOIN stellar_transactions t ON t.id = e.tx_id"


class Horizon:
    def __init__(self, ledger):
        self.ledger = ledger

    def _read(self, work):
        """Run a read-only query function with the store's connection in a worker thread."""
        def call():
            with self.ledger.store.transaction() as conn:
                return work(conn)
        return run_in_threadpool(call)

    # ---- root, ledgers, fees -----------------------------------------------------------------

    @problems
    async def root(self, request):
        base = base_url(request)

        def work(conn):
            latest = state.latest_ledger(conn)
            return hal({
                "_links": {
                    "account": {"href": base + "/accounts/{account_id}", "templated": True},
                    "ledger": {"href": base + "/ledgers/{sequence}", "templated": True},
                    "transaction": {"href": base + "/transactions/{hash}", "templated": True},
                    "transactions": {"href": base + "/transactions{?cursor,limit,order}", "templated": True},
                    "fee_stats": {"href": base + "/fee_stats"},
                    "friendbot": {"href": base + "/friendbot{?addr}", "templated": True},
                    "self": {"href": base + "/"},
                },
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
        return await self._read(work)

    @problems
    async def ledgers(self, request):
        page, base = Page(request), base_url(request)
        return await self._read(lambda conn: hal(page.envelope([
            records.ledger(base, row)
            for row in page.fetch(conn, "SELECT l.* FROM stellar_ledgers l", [], [], ["(l.sequence << 32)"])])))

    @problems
    async def ledger(self, request):
        sequence = _int_param(request, "sequence")
        base = base_url(request)

        def work(conn):
            row = conn.execute("SELECT * FROM stellar_ledgers WHERE sequence = ?", (sequence,)).fetchone()
            if row is None:
                raise not_found()
            return hal(records.ledger(base, row))
        return await self._read(work)

    @problems
    async def fee_stats(self, request):
        def work(conn):
            fee = str(state.BASE_FEE)
            percentiles = {key: fee for key in ("max", "min", "mode", "p10", "p20", "p30", "p40", "p50", "p60",
                                                 "p70", "p80", "p90", "p95", "p99")}
            return hal({
                "last_ledger": str(state.latest_ledger(conn)["sequence"]),
                "last_ledger_base_fee": fee,
                "ledger_capacity_usage": "0.01",
                "fee_charged": percentiles,
                "max_fee": dict(percentiles),
            })
        return await self._read(work)

    # ---- accounts ------------------------------------------------------------------------------

    @problems
    async def account(self, request):
        account_id = _account_param(request)
        base = base_url(request)

        def work(conn):
            row = state.get_account(conn, account_id)
            if row is None:
                raise not_found()
            return hal(records.account(base, row, state.trustlines_of(conn, account_id)))
        return await self._read(work)

    # ---- transactions --------------------------------------------------------------------------

    @problems
    async def transactions(self, request):
        where, params, select = [], [], _TX_SELECT
        if "account_id" in request.path_params:
            select += " JOIN stellar_tx_participants p ON p.tx_id = t.id"
            where.append("p.account_id = ?")
            params.append(_account_param(request))
        if "sequence" in request.path_params:
            where.append("t.ledger = ?")
            params.append(_int_param(request, "sequence"))
        page, base = Page(request), base_url(request)
        if not page.include_failed:
            where.append("t.successful = 1")
        return await self._read(lambda conn: hal(page.envelope([
            records.transaction(base, row) for row in page.fetch(conn, select, where, params, ["t.id"])])))

    @problems
    async def transaction(self, request):
        base = base_url(request)

        def work(conn):
            return hal(records.transaction(base, _transaction_row(conn, request.path_params["tx_hash"])))
        return await self._read(work)

    @problems
    async def submit(self, request):
        form = urllib.parse.parse_qs((await request.body()).decode("utf-8", errors="replace"))
        envelope_xdr = (form.get("tx") or [""])[0]
        if not envelope_xdr:
            raise bad_request("tx", "Transaction is missing")
        try:
            outcome = await run_in_threadpool(self.ledger.submit, envelope_xdr)
        except envelope.MalformedTransaction:
            raise transaction_malformed(envelope_xdr) from None
        except TransactionRejected as rejected:
            raise transaction_failed(envelope_xdr, rejected.result_xdr, rejected.result_codes) from None
        if not outcome.successful:
            raise transaction_failed(envelope_xdr, outcome.result_xdr, outcome.result_codes)
        base = base_url(request)
        return await self._read(lambda conn: hal(records.transaction(base, _transaction_row(conn, outcome.hash))))

    # ---- operations, payments, effects ---------------------------------------------------------

    @problems
    async def operations(self, request):
        return await self._operations(request, payments_only=False)

    @problems
    async def payments(self, request):
        return await self._operations(request, payments_only=True)

    async def _operations(self, request, payments_only):
        page, base = Page(request), base_url(request)

        def work(conn):
            where, params, select = [], [], _OP_SELECT
            include_failed = page.include_failed
            if "account_id" in request.path_params:
                select += " JOIN stellar_op_participants p ON p.op_id = o.id"
                where.append("p.account_id = ?")
                params.append(_account_param(request))
            if "tx_hash" in request.path_params:
                where.append("o.tx_id = ?")
                params.append(_transaction_row(conn, request.path_params["tx_hash"])["id"])
                include_failed = True
            if payments_only:
                where.append("o.type IN (%s)" % ", ".join("?" * len(_PAYMENT_TYPES)))
                params.extend(_PAYMENT_TYPES)
            if not include_failed:
                where.append("t.successful = 1")
            rows = page.fetch(conn, select, where, params, ["o.id"])
            return hal(page.envelope([records.operation(base, row, self._joined(conn, base, page, row))
                                      for row in rows]))
        return await self._read(work)

    @staticmethod
    def _joined(conn, base, page, row):
        if page.join != "transactions":
            return None
        tx = conn.execute("SELECT * FROM stellar_transactions WHERE id = ?", (row["tx_id"],)).fetchone()
        return records.transaction(base, tx)

    @problems
    async def operation(self, request):
        op_id = _int_param(request, "op_id")
        base = base_url(request)

        def work(conn):
            row = conn.execute(_OP_SELECT + " WHERE o.id = ?", (op_id,)).fetchone()
            if row is None:
                raise not_found()
            return hal(records.operation(base, row))
        return await self._read(work)

    @problems
    async def effects(self, request):
        page, base = Page(request, composite_cursor=True), base_url(request)

        def work(conn):
            where, params = [], []
            if "account_id" in request.path_params:
                where.append("e.account = ?")
                params.append(_account_param(request))
            if "tx_hash" in request.path_params:
                where.append("e.tx_id = ?")
                params.append(_transaction_row(conn, request.path_params["tx_hash"])["id"])
            if "op_id" in request.path_params:
                where.append("e.op_id = ?")
                params.append(_int_param(request, "op_id"))
            rows = page.fetch(conn, _EFFECT_SELECT, where, params, ["e.op_id", "e.idx"])
            return hal(page.envelope([records.effect(base, row) for row in rows]))
        return await self._read(work)


def _transaction_row(conn, tx_hash):
    row = conn.execute("SELECT * FROM stellar_transactions WHERE hash = ?", (tx_hash.lower(),)).fetchone()
    if row is None:
        raise not_found()
    return row


def _account_param(request: Request):
    account_id = request.path_params["account_id"]
    if not is_account_id(account_id):
        raise bad_request("account_id", "Account ID must start with `G` and contain 56 alphanum characters")
    return account_id


def _int_param(request, name):
    try:
        return int(request.path_params[name])
    except ValueError:
        raise bad_request(name, "must be an integer") from None


def routes(ledger):
    """The Starlette routes of the Horizon subset, friendbot and faucet (relative to the /stellar mount)."""
    h = Horizon(ledger)
    account = "/accounts/{account_id}"
    tx = "/transactions/{tx_hash}"
    return [
        Route("/", h.root),
        Route("/ledgers", h.ledgers),
        Route("/ledgers/{sequence}", h.ledger),
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
