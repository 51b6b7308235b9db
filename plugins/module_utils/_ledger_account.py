# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Which account's ledger a module reads (the ``ledger`` and ``ledger_account`` options), checked before
anything is signed. Apart from the ledger itself (_money_views.py), which a task loads only when asked for one.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible_collections.threefold.grid.plugins.module_utils._errors import CodedError, StellarError


def check_account(address: str) -> None:
    from ansible_collections.threefold.grid.plugins.module_utils._payment import require_stellar
    require_stellar()
    from ansible_collections.threefold.grid.plugins.module_utils._stellar import is_account_address
    if not is_account_address(address):
        raise CodedError("ledger_account %r is not a Stellar account address (G..., 56 characters)" % address,
                         "invalid_ledger_account")


def ledger_payer(params: Dict[str, Any]) -> Optional[str]:
    """The account a resource module reads the ledger of (``ledger``/``ledger_account``, doc fragment
    threefold.grid.ledger), checked before anything is signed; None when no ledger is asked for."""
    account = params.get("ledger_account")
    if not account and params.get("ledger"):
        secret = (params.get("payment") or {}).get("stellar_secret")
        if not secret:
            raise CodedError("ledger: no account to read the ledger of: set ledger_account to the address that pays "
                             "this identity's reservations, or give the payment block (its wallet is the default)",
                             "invalid_ledger_account")
        from ansible_collections.threefold.grid.plugins.module_utils._payment import require_stellar
        require_stellar()
        from ansible_collections.threefold.grid.plugins.module_utils._stellar import keypair_from_secret
        try:
            return keypair_from_secret(secret).public_key
        except StellarError as exc:
            raise CodedError("ledger: the payment block's %s" % exc.msg, "invalid_ledger_account") from None
    if account:
        check_account(account)
    return account or None
