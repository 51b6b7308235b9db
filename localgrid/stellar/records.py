"""Horizon JSON records built from ledger rows: int64 values as strings, amounts with 7 decimals."""

import datetime
import json

from . import state
from .amounts import format_amount
from .assets import Asset, asset_fields

EFFECT_TYPE_I = {
    "account_created": 0, "account_credited": 2, "account_debited": 3, "signer_created": 10,
    "trustline_created": 20, "trustline_removed": 21, "trustline_updated": 22,
}
OP_TYPE_I = {"create_account": 0, "payment": 1, "path_payment_strict_receive": 2, "manage_sell_offer": 3,
             "create_passive_sell_offer": 4, "set_options": 5, "change_trust": 6, "allow_trust": 7,
             "account_merge": 8, "inflation": 9, "manage_data": 10, "bump_sequence": 11,
             "manage_buy_offer": 12, "path_payment_strict_send": 13}


def iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _href(href, templated=False):
    return {"href": href, "templated": True} if templated else {"href": href}


def account(base, row, trustlines):
    account_id = row["account_id"]
    balances = [dict({
        "balance": format_amount(line["balance"]),
        "limit": format_amount(line["trust_limit"]),
        "buying_liabilities": "0.0000000",
        "selling_liabilities": "0.0000000",
        "last_modified_ledger": line["last_modified_ledger"],
        "is_authorized": True,
        "is_authorized_to_maintain_liabilities": True,
    }, **asset_fields(state.row_asset(line))) for line in trustlines]
    balances.append({"balance": format_amount(row["balance"]), "buying_liabilities": "0.0000000",
                     "selling_liabilities": "0.0000000", "asset_type": "native"})
    link = "%s/accounts/%s" % (base, account_id)
    return {
        "_links": {
            "self": _href(link),
            "transactions": _href(link + "/transactions{?cursor,limit,order}", True),
            "operations": _href(link + "/operations{?cursor,limit,order}", True),
            "payments": _href(link + "/payments{?cursor,limit,order}", True),
            "effects": _href(link + "/effects{?cursor,limit,order}", True),
            "offers": _href(link + "/offers{?cursor,limit,order}", True),
            "trades": _href(link + "/trades{?cursor,limit,order}", True),
            "data": _href(link + "/data/{key}", True),
        },
        "id": account_id,
        "account_id": account_id,
        "sequence": str(row["sequence"]),
        "subentry_count": row["subentry_count"],
        "last_modified_ledger": row["last_modified_ledger"],
        "thresholds": {"low_threshold": 0, "med_threshold": 0, "high_threshold": 0},
        "flags": {"auth_required": False, "auth_revocable": False, "auth_immutable": False,
                  "auth_clawback_enabled": False},
        "balances": balances,
        "signers": [{"weight": 1, "key": account_id, "type": "ed25519_public_key"}],
        "data": {},
        "num_sponsoring": 0,
        "num_sponsored": 0,
        "paging_token": account_id,
    }


def transaction(base, row):
    link = "%s/transactions/%s" % (base, row["hash"])
    record = {
        "_links": {
            "self": _href(link),
            "account": _href("%s/accounts/%s" % (base, row["source_account"])),
            "ledger": _href("%s/ledgers/%d" % (base, row["ledger"])),
            "operations": _href(link + "/operations{?cursor,limit,order}", True),
            "effects": _href(link + "/effects{?cursor,limit,order}", True),
            "precedes": _href("%s/transactions?order=asc&cursor=%d" % (base, row["id"])),
            "succeeds": _href("%s/transactions?order=desc&cursor=%d" % (base, row["id"])),
            "transaction": _href(link),
        },
        "id": row["hash"],
        "paging_token": str(row["id"]),
        "successful": bool(row["successful"]),
        "hash": row["hash"],
        "ledger": row["ledger"],
        "created_at": iso(row["created_at"]),
        "source_account": row["source_account"],
        "source_account_sequence": str(row["source_sequence"]),
        "fee_account": row["source_account"],
        "fee_charged": str(row["fee_charged"]),
        "max_fee": str(row["max_fee"]),
        "operation_count": row["operation_count"],
        "envelope_xdr": row["envelope_xdr"],
        "result_xdr": row["result_xdr"],
        "result_meta_xdr": "",
        "fee_meta_xdr": "",
        "memo_type": row["memo_type"],
        "signatures": json.loads(row["signatures"]),
    }
    if row["memo_type"] != "none":
        record["memo"] = row["memo"]
    if row["memo_bytes"] is not None:
        record["memo_bytes"] = row["memo_bytes"]
    bounds = {}
    if row["valid_after"] is not None:
        record["valid_after"] = iso(row["valid_after"])
        bounds["min_time"] = str(row["valid_after"])
    if row["valid_before"]:
        record["valid_before"] = iso(row["valid_before"])
        bounds["max_time"] = str(row["valid_before"])
    if bounds:
        record["preconditions"] = {"timebounds": bounds}
    return record


def operation(base, row, joined_transaction=None):
    """row: an operation joined with its transaction's hash, successful and created_at."""
    link = "%s/operations/%d" % (base, row["id"])
    record = {
        "_links": {
            "self": _href(link),
            "transaction": _href("%s/transactions/%s" % (base, row["hash"])),
            "effects": _href(link + "/effects"),
            "succeeds": _href("%s/operations?order=desc&cursor=%d" % (base, row["id"])),
            "precedes": _href("%s/operations?order=asc&cursor=%d" % (base, row["id"])),
        },
        "id": str(row["id"]),
        "paging_token": str(row["id"]),
        "transaction_successful": bool(row["successful"]),
        "source_account": row["source_account"],
        "type": row["type"],
        "type_i": OP_TYPE_I.get(row["type"], -1),
        "created_at": iso(row["created_at"]),
        "transaction_hash": row["hash"],
    }
    record.update(json.loads(row["details"]))
    if joined_transaction is not None:
        record["transaction"] = joined_transaction
    return record


def effect(base, row):
    """row: an effect joined with its transaction's created_at."""
    token = "%d-%d" % (row["op_id"], row["idx"])
    record = {
        "_links": {
            "operation": _href("%s/operations/%d" % (base, row["op_id"])),
            "succeeds": _href("%s/effects?order=desc&cursor=%s" % (base, token)),
            "precedes": _href("%s/effects?order=asc&cursor=%s" % (base, token)),
        },
        "id": "%019d-%010d" % (row["op_id"], row["idx"]),
        "paging_token": token,
        "account": row["account"],
        "type": row["type"],
        "type_i": EFFECT_TYPE_I[row["type"]],
        "created_at": iso(row["created_at"]),
    }
    if row["asset_code"] is not None:
        record.update(asset_fields(Asset(row["asset_code"], row["asset_issuer"])))
    if row["amount"] is not None:
        record["amount"] = format_amount(row["amount"])
    record.update(json.loads(row["details"]))
    return record


def ledger(base, row):
    return {
        "_links": {
            "self": _href("%s/ledgers/%d" % (base, row["sequence"])),
            "transactions": _href("%s/ledgers/%d/transactions{?cursor,limit,order}" % (base, row["sequence"]), True),
        },
        "id": row["hash"],
        "paging_token": str(row["sequence"] << 32),
        "hash": row["hash"],
        "prev_hash": row["prev_hash"],
        "sequence": row["sequence"],
        "successful_transaction_count": row["successful_transaction_count"],
        "failed_transaction_count": row["failed_transaction_count"],
        "operation_count": row["operation_count"],
        "tx_set_operation_count": row["operation_count"],
        "closed_at": iso(row["closed_at"]),
        "total_coins": "100000000000.0000000",
        "fee_pool": "0.0000000",
        "base_fee_in_stroops": state.BASE_FEE,
        "base_reserve_in_stroops": state.BASE_RESERVE,
        "max_tx_set_size": 100,
        "protocol_version": 20,
    }
