"""Startup seeding of the explorer from the grid file: farmer users, farm wallets, farms, nodes, gateways."""

import nacl.signing

_TABLES = """
CREATE TABLE IF NOT EXISTS explorer_farmer_keys (name TEXT PRIMARY KEY, seed_hex TEXT NOT NULL);
"""


def farmer_user(store, phonebook, farm):
    """The farm's phonebook user, created with a generated key the first time (the key stays in the store)."""
    store.migrate("explorer_farmer_keys", _TABLES)
    name = farm["farmer_name"]
    existing = phonebook.find(name=name)
    if existing:
        return existing[0]
    key = nacl.signing.SigningKey.generate()
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO explorer_farmer_keys (name, seed_hex) VALUES (?, ?)", (name, bytes(key).hex())
        )
        return phonebook.create({"name": name, "email": farm["email"], "pubkey": bytes(key.verify_key).hex()})


def seed_directory(store, grid, phonebook, directory, wallets):
    """Upsert the grid file's farms, nodes and gateways (state from a previous run is kept)."""
    for farm in grid["farms"]:
        user = farmer_user(store, phonebook, farm)
        directory.upsert_farm(farm, user["id"], wallets.wallet_addresses(int(farm["id"])))
    for node in grid["nodes"]:
        directory.upsert_node(node)
    for gateway in grid.get("gateways") or []:
        directory.gateways.upsert(gateway)
