"""Friendbot (XLM) and the TFT/TFTA/FreeTFT faucet of localgrid.

``GET|POST /friendbot?addr=G…`` creates the account with 10 000 XLM from the network root, like
the testnet friendbot. ``GET|POST /faucet?addr=G…&asset=TFT&amount=1000`` pays that amount from
the asset's issuer (a mint) to an account that already trusts the asset. Both answer with the
Horizon transaction record.
"""

import json
import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from . import records
from .amounts import STROOPS_PER_UNIT, format_amount, parse_amount
from .assets import ASSET_CODES, is_account_id
from .ledger import LedgerError
from .problems import Problem, transaction_failed
from .queries import LedgerQueries
from .results import result_xdr
from .web import base_url, hal, problems

FRIENDBOT_STARTING_BALANCE = 10_000 * STROOPS_PER_UNIT
FAUCET_MAX = 1_000_000 * STROOPS_PER_UNIT


def _refused(field, reason):
    return Problem(400, "bad_request", "Bad Request", reason, {"invalid_field": field, "reason": reason})


async def _params(request):
    """Query parameters, overridden by a form or JSON body on POST."""
    params = dict(request.query_params)
    if request.method == "POST":
        body = await request.body()
        if body:
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    params.update({k: str(v) for k, v in json.loads(body).items()})
                except (ValueError, AttributeError):
                    raise _refused("body", "the body must be a JSON object") from None
            else:
                params.update({k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()})
    return params


class Faucet:
    def __init__(self, ledger):
        self.ledger = ledger
        self.queries = LedgerQueries(ledger.store)

    async def _record(self, request, tx_hash):
        row = await run_in_threadpool(self.queries.transaction, tx_hash)
        return hal(records.transaction(base_url(request), row))

    @problems
    async def friendbot(self, request):
        addr = (await _params(request)).get("addr", "")
        if not is_account_id(addr):
            raise _refused("addr", "addr must be a Stellar account id (G…, 56 characters)")
        try:
            tx_hash = await run_in_threadpool(self.ledger.create_account, addr, FRIENDBOT_STARTING_BALANCE)
        except LedgerError as exc:
            # The testnet friendbot forwards Horizon's failure the same way.
            raise transaction_failed("", result_xdr("tx_failed", 0, [("create_account", exc.code)]),
                                     {"transaction": "tx_failed", "operations": [exc.code]}) from None
        return await self._record(request, tx_hash)

    @problems
    async def faucet(self, request):
        params = await _params(request)
        addr, code = params.get("addr", ""), params.get("asset", "TFT")
        if not is_account_id(addr):
            raise _refused("addr", "addr must be a Stellar account id (G…, 56 characters)")
        code = self._asset_code(code)
        try:
            amount = parse_amount(params.get("amount", "1000"))
        except ValueError as exc:
            raise _refused("amount", str(exc)) from None
        if not 0 < amount <= FAUCET_MAX:
            raise _refused("amount", "amount must be more than 0 and at most %s" % format_amount(FAUCET_MAX))
        try:
            tx_hash = await run_in_threadpool(self.ledger.pay, self.ledger.issuer(code), addr, code, amount)
        except LedgerError as exc:
            raise self._explain(exc.code, addr, code) from None
        return await self._record(request, tx_hash)

    def _asset_code(self, text):
        for code in ASSET_CODES:
            if text in (code, self.ledger.asset_string(code)):
                return code
        raise _refused("asset", "asset must be one of %s (or CODE:ISSUER of localgrid's issuers)"
                       % ", ".join(ASSET_CODES))

    def _explain(self, code, addr, asset_code):
        asset = self.ledger.asset_string(asset_code)
        if code == "op_no_destination":
            return _refused("addr", "account %s does not exist: create it first (GET /stellar/friendbot?addr=%s)"
                            % (addr, addr))
        if code == "op_no_trust":
            return _refused("addr", "account %s has no trustline to %s: submit a change_trust operation first"
                            % (addr, asset))
        if code == "op_line_full":
            return _refused("amount", "the payment would exceed the trustline limit of %s for %s" % (addr, asset))
        return _refused("addr", "the faucet payment failed: %s" % code)


def routes(ledger):
    f = Faucet(ledger)
    return [
        Route("/friendbot", f.friendbot, methods=["GET", "POST"]),
        Route("/faucet", f.faucet, methods=["GET", "POST"]),
    ]
