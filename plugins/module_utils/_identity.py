# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""3Bot identity: an ed25519 key from a hex seed, a BIP39 mnemonic or a seed file, and the explorer's signatures.

The seed and the mnemonic are secrets: no message, repr or return value built here contains them.
"""

from __future__ import annotations

import base64
import email.utils
import os
import re
import time
import traceback
from typing import Dict, Optional, Union

from ansible_collections.threefold.grid.plugins.module_utils._crypto import HAS_NACL, require_nacl
from ansible_collections.threefold.grid.plugins.module_utils._errors import IdentityError, MissingLibraryError

if HAS_NACL:
    import nacl.exceptions
    import nacl.public
    import nacl.signing
    import nacl.utils

try:
    from mnemonic import Mnemonic
except ImportError:
    HAS_MNEMONIC = False
    MNEMONIC_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_MNEMONIC = True
    MNEMONIC_IMPORT_ERROR = None


SEED_HEX_ERROR = "identity_seed must be 64 hexadecimal characters (a 32-byte ed25519 seed)"
MNEMONIC_ERROR = "identity_mnemonic must be 24 English BIP39 words with a valid checksum"
SEED_FORMATS = ("hex", "mnemonic")

_HEX_SEED = re.compile(r"^[0-9a-fA-F]{64}$")
# The explorer's httpsig verifier ignores `expires`; one minute matches the Go signer's intent.
_HTTP_SIGNATURE_TTL = 60


def _require_mnemonic():
    if not HAS_MNEMONIC:
        raise MissingLibraryError("mnemonic", MNEMONIC_IMPORT_ERROR)


def _to_bytes(message):
    return message.encode("utf-8") if isinstance(message, str) else bytes(message)


class Identity:
    """An ed25519 identity as used by the explorer phonebook (pubkey = 64 lowercase hex)."""

    def __init__(self, seed: bytes) -> None:
        require_nacl()
        if len(seed) != 32:
            raise IdentityError(SEED_HEX_ERROR)
        self._signing_key = nacl.signing.SigningKey(bytes(seed))

    def __repr__(self):
        return "Identity(public_key_hex=%r)" % self.public_key_hex

    # ---- construction --------------------------------------------------------------------

    @classmethod
    def from_seed_hex(cls, seed_hex: str) -> "Identity":
        text = (seed_hex or "").strip()
        if not _HEX_SEED.match(text):
            raise IdentityError(SEED_HEX_ERROR)
        return cls(bytes.fromhex(text))

    @classmethod
    def from_mnemonic(cls, words: str) -> "Identity":
        _require_mnemonic()
        normalised = " ".join((words or "").lower().split())
        wordlist = Mnemonic("english")
        if len(normalised.split(" ")) != 24:
            raise IdentityError(MNEMONIC_ERROR)
        try:
            valid = wordlist.check(normalised)
        except (LookupError, ValueError):
            valid = False
        if not valid:
            raise IdentityError(MNEMONIC_ERROR)
        # As in JumpScale, the 32-byte seed is the BIP39 entropy of the 24 words.
        return cls(bytes(wordlist.to_entropy(normalised)))

    @classmethod
    def from_file(cls, path: str) -> "Identity":
        """A seed file holds either the 64-hex seed or the 24-word mnemonic (surrounding whitespace ignored)."""
        try:
            with open(path, "r") as handle:
                text = handle.read().strip()
        except (IOError, OSError) as exc:
            raise IdentityError("cannot read identity_seed_file %s: %s" % (path, exc.strerror or exc)) from None
        except UnicodeDecodeError:
            text = ""
        if _HEX_SEED.match(text):
            return cls.from_seed_hex(text)
        if len(text.split()) == 24:
            try:
                return cls.from_mnemonic(text)
            except MissingLibraryError:
                raise
            except IdentityError:
                pass
        raise IdentityError(
            "identity_seed_file %s must contain a 64-character hexadecimal seed or a 24-word BIP39 mnemonic" % path)

    @classmethod
    def generate(cls) -> "Identity":
        require_nacl()
        return cls(nacl.utils.random(32))

    # ---- key material --------------------------------------------------------------------

    @property
    def public_key(self) -> bytes:
        return bytes(self._signing_key.verify_key)

    @property
    def public_key_hex(self) -> str:
        return self.public_key.hex()

    @property
    def seed_hex(self) -> str:
        """Secret: never log or return it."""
        return bytes(self._signing_key).hex()

    @property
    def mnemonic(self) -> str:
        """Secret: never log or return it."""
        _require_mnemonic()
        return Mnemonic("english").to_mnemonic(bytes(self._signing_key))

    def write_seed_file(self, path: str, seed_format: str = "hex") -> None:
        """Create `path` (mode 0600) holding the seed as hex or mnemonic; fails if it already exists."""
        if seed_format not in SEED_FORMATS:
            raise IdentityError("seed_format must be one of %s" % ", ".join(SEED_FORMATS))
        text = self.seed_hex if seed_format == "hex" else self.mnemonic
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text + "\n")

    # ---- sealing for oneself ---------------------------------------------------------------

    def _self_box(self) -> "nacl.public.Box":
        """A NaCl box between the identity's own Curve25519 keys (derived from its ed25519 key), as js-sdk
        sealed reservation metadata: only the holder of the seed can open what it seals."""
        return nacl.public.Box(self._signing_key.to_curve25519_private_key(),
                               self._signing_key.verify_key.to_curve25519_public_key())

    def seal_for_self(self, text: str) -> str:
        """Base85 of nonce + ciphertext of ``text`` (UTF-8), readable only with this identity's seed."""
        return base64.b85encode(bytes(self._self_box().encrypt(text.encode("utf-8")))).decode("ascii")

    def open_sealed(self, sealed: str) -> Optional[str]:
        """The text seal_for_self() sealed, or None when it is not readable with this identity's seed."""
        try:
            return self._self_box().decrypt(base64.b85decode(sealed.encode("ascii"))).decode("utf-8")
        except (ValueError, TypeError, nacl.exceptions.CryptoError):
            return None

    # ---- signatures ----------------------------------------------------------------------

    def sign(self, message: Union[str, bytes]) -> str:
        """Hex ed25519 detached signature of the raw bytes (no hashing), as the explorer verifies it."""
        return self._signing_key.sign(_to_bytes(message)).signature.hex()

    def sign_reservation(self, json_text: str) -> str:
        """customer_signature: the UTF-8 bytes of the reservation's `json` string."""
        return self.sign(json_text)

    def signed_reservation(self, reservation: Dict) -> bool:
        """Whether this identity's key made the reservation's customer_signature (of its `json` string)."""
        try:
            self._signing_key.verify_key.verify(_to_bytes(reservation.get("json") or ""),
                                                bytes.fromhex(reservation.get("customer_signature") or ""))
        except (ValueError, TypeError, nacl.exceptions.BadSignatureError):
            return False
        return True

    def sign_reservation_action(self, reservation_id: int, json_text: str) -> str:
        """sign/provision and sign/delete: str(reservation id) immediately followed by the stored json."""
        return self.sign("%d%s" % (int(reservation_id), json_text))

    def sign_user_update(self, tid: int, name: str = "", email: str = "", host: str = "", description: str = "",
                         pubkey: str = "") -> str:
        """sender_signature_hex of PUT /users/{tid}: str(tid)+name+email+host+description+pubkey as sent."""
        return self.sign("%d%s%s%s%s%s" % (int(tid), name or "", email or "", host or "", description or "",
                                           pubkey or ""))

    def http_signature_headers(self, key_id: Union[int, str], now: Optional[float] = None) -> Dict[str, str]:
        """Authorization, Date and Threebot-Id headers of an explorer HTTP signature (draft-cavage, ed25519)."""
        created = int(time.time() if now is None else now)
        date = email.utils.formatdate(created, usegmt=True)
        key_id = str(key_id)
        signing_string = "(created): %d\ndate: %s\nthreebot-id: %s" % (created, date, key_id)
        signature = base64.b64encode(self._signing_key.sign(signing_string.encode("utf-8")).signature)
        authorization = (
            'Signature keyId="%s",algorithm="ed25519",created="%d",expires="%d",'
            'headers="(created) date threebot-id",signature="%s"'
            % (key_id, created, created + _HTTP_SIGNATURE_TTL, signature.decode("ascii"))
        )
        return {"Authorization": authorization, "Date": date, "Threebot-Id": key_id}
