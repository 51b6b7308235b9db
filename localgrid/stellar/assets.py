"""localgrid's assets and the accounts that back them.

The network root (the friendbot's funder) uses Stellar's own rule: its seed is
sha256(network passphrase). The issuers of TFT, TFTA and FreeTFT are derived the same way
from a fixed label, so every localgrid (and every restart) has the same issuer addresses and
``network: local`` clients can know them without asking.
"""

import collections
import functools
import hashlib

from stellar_sdk import Keypair, StrKey

NETWORK_PASSPHRASE = "Localgrid Stellar Network ; threefold.grid"
# What every transaction hash covers first, and (as on Stellar) the seed of the network's root account.
NETWORK_ID = hashlib.sha256(NETWORK_PASSPHRASE.encode()).digest()
NATIVE = "XLM"
# credit_alphanum12 for FreeTFT (7 characters), as on the public network.
ASSET_CODES = ("TFT", "TFTA", "FreeTFT")

Asset = collections.namedtuple("Asset", "code issuer")  # issuer None = native XLM


def root_keypair():
    return Keypair.from_raw_ed25519_seed(NETWORK_ID)


def issuer_keypair(code):
    if code not in ASSET_CODES:
        raise KeyError("unknown localgrid asset %r" % code)
    label = "localgrid issuer %s ; %s" % (code, NETWORK_PASSPHRASE)
    return Keypair.from_raw_ed25519_seed(hashlib.sha256(label.encode()).digest())


@functools.lru_cache(maxsize=None)
def localgrid_asset(code):
    """Asset for a code: "XLM" is native, TFT/TFTA/FreeTFT use localgrid's issuers.

    Cached: every payment and balance looks its asset up, and deriving an issuer's key is a hash
    and a strkey encoding (an unknown code raises, and raising is not cached)."""
    if code == NATIVE:
        return Asset(NATIVE, None)
    return Asset(code, issuer_keypair(code).public_key)


def asset_type(asset):
    if asset.issuer is None:
        return "native"
    return "credit_alphanum4" if len(asset.code) <= 4 else "credit_alphanum12"


def asset_fields(asset, prefix=""):
    """Horizon's asset_type/asset_code/asset_issuer fields (code and issuer absent for native)."""
    fields = {prefix + "asset_type": asset_type(asset)}
    if asset.issuer is not None:
        fields[prefix + "asset_code"] = asset.code
        fields[prefix + "asset_issuer"] = asset.issuer
    return fields


def is_account_id(value):
    return isinstance(value, str) and _valid_account_id(value)


@functools.lru_cache(maxsize=4096)
def _valid_account_id(text):
    # The same few escrow, farm and wallet addresses are checked on every payment; a check is a base32 decode and a CRC.
    return StrKey.is_valid_ed25519_public_key(text)
