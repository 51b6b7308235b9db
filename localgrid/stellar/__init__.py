"""The Stellar side of localgrid: a ledger (domain rules) and a Horizon-compatible HTTP subset."""

from .assets import NETWORK_PASSPHRASE
from .ledger import Ledger, LedgerError

__all__ = ["NETWORK_PASSPHRASE", "Ledger", "LedgerError"]
