"""The explorer's own Stellar accounts: its wallet (funds escrow accounts), the foundation, farm wallets.

Keypairs live in the store so a restart keeps the same addresses; secrets never leave it.
"""

from stellar_sdk import Keypair

_TABLES = """
CREATE TABLE IF NOT EXISTS explorer_wallets (name TEXT PRIMARY KEY, address TEXT NOT NULL, secret TEXT NOT NULL);
"""

XLM = 10**7
WALLET_START = 1_000_000 * XLM  # the explorer wallet, funded by the ledger's root (friendbot)
ACCOUNT_START = 10 * XLM  # escrow and farm accounts: enough XLM for reserves and trustlines
ASSETS = ("TFT", "TFTA", "FreeTFT")


class Wallets:
    def __init__(self, store, ledger):
        self.store = store
        self.ledger = ledger
        store.migrate("explorer_wallets", _TABLES)
        self.explorer = self.named("explorer", WALLET_START, funder=None)
        self.foundation = self.named("foundation", ACCOUNT_START, funder=self.explorer)

    def named(self, name, starting_balance=ACCOUNT_START, funder=None, trust=ASSETS):
        """The address of a named explorer-owned account, created with trustlines on first use."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT address FROM explorer_wallets WHERE name = ?", (name,)).fetchone()
            if row:
                return row["address"]
            keypair = Keypair.random()
            self._create(keypair.public_key, starting_balance, funder, trust)
            conn.execute(
                "INSERT INTO explorer_wallets (name, address, secret) VALUES (?, ?, ?)",
                (name, keypair.public_key, keypair.secret),
            )
            return keypair.public_key

    def new_account(self, trust=ASSETS):
        """A fresh account funded by the explorer wallet; returns (address, secret) for the caller to keep."""
        keypair = Keypair.random()
        self._create(keypair.public_key, ACCOUNT_START, self.explorer, trust)
        return keypair.public_key, keypair.secret

    def _create(self, address, starting_balance, funder, trust):
        self.ledger.create_account(address, starting_balance, funder=funder)
        for code in trust:
            self.ledger.change_trust(address, code)

    def farm_wallet(self, farm_id):
        return self.named("farm:%d" % farm_id, funder=self.explorer)

    def wallet_addresses(self, farm_id):
        """A farm's wallet_addresses: one account trusted for every asset."""
        address = self.farm_wallet(farm_id)
        return [{"asset": code, "address": address} for code in ASSETS]
