"""Phonebook: 3Bot users (name, email, ed25519 pubkey) and their signature checks (docs/contract/explorer.md §3.1, §5.3)."""

import json

import nacl.exceptions
import nacl.signing

from localgrid.explorer.errors import ApiError, bad_request, not_found
from localgrid.explorer.gostr import hex_decode

_TABLES = """
CREATE TABLE IF NOT EXISTS phonebook_users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
"""

USER_KEYS = ("id", "name", "email", "pubkey", "host", "description", "signature")


def verify_hex(pubkey_hex, message, signature):
    """Plain ed25519 verification; False on any malformed key or signature (Go semantics)."""
    try:
        nacl.signing.VerifyKey(bytes.fromhex(pubkey_hex)).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False
    return True


def _check_pubkey(pubkey):
    try:
        raw = hex_decode(pubkey)
    except ValueError as err:
        raise ApiError(500, "invalid public key %s: invalid hex format: %s" % (pubkey, err)) from None
    if len(raw) != 32:
        raise ApiError(500, "invalid public key %s: wrong key size" % pubkey)


class Phonebook:
    def __init__(self, store):
        self.store = store
        store.migrate("explorer_phonebook", _TABLES)

    def create(self, user):
        name, email = user["name"], user["email"]
        if name != name.lower():
            raise bad_request("name should be all lower case")
        if email != email.lower():
            raise bad_request("email should be all lower case")
        if len(name) < 3:
            raise bad_request("name should be at least 3 character")
        _check_pubkey(user["pubkey"])
        with self.store.transaction() as conn:
            taken = conn.execute(
                "SELECT 1 FROM phonebook_users WHERE name = ? OR email = ?", (name, email)
            ).fetchone()
            if taken:
                raise ApiError(409, "user with same name or email exists")
            doc = {key: "" for key in USER_KEYS}
            doc.update(name=name, email=email, pubkey=user["pubkey"])
            doc["id"] = self.store.next_id("phonebook_users")
            conn.execute(
                "INSERT INTO phonebook_users (id, name, email, doc) VALUES (?, ?, ?, ?)",
                (doc["id"], name, email, json.dumps(doc)),
            )
        return doc

    def get(self, tid):
        with self.store.transaction() as conn:
            row = conn.execute("SELECT doc FROM phonebook_users WHERE id = ?", (tid,)).fetchone()
        if row is None:
            raise not_found()
        return json.loads(row["doc"])

    def find(self, name=None, email=None):
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT doc FROM phonebook_users ORDER BY id").fetchall()
        users = [json.loads(row["doc"]) for row in rows]
        if name is not None:
            users = [u for u in users if u["name"] == name]
        if email is not None:
            users = [u for u in users if u["email"] == email]
        return users

    def update(self, tid, body):
        """PUT /users/{id}: body signed with the currently stored key (explorer.md §5.3)."""
        signature_hex = body["sender_signature_hex"]
        if not signature_hex:
            raise bad_request("signature is required")
        try:
            signature = hex_decode(signature_hex)
        except ValueError as err:
            raise bad_request("invalid signature hex: %s" % err) from None
        with self.store.transaction() as conn:
            row = conn.execute("SELECT doc FROM phonebook_users WHERE id = ?", (tid,)).fetchone()
            if row is None:
                raise ApiError(500, "user not found")
            current = json.loads(row["doc"])
            message = "%d%s%s%s%s%s" % (
                tid, body["name"], body["email"], body["host"], body["description"], body["pubkey"],
            )
            if not verify_hex(current["pubkey"], message.encode(), signature):
                raise bad_request("payload verification failed: bad data during user update")
            if body["pubkey"]:
                try:
                    _check_pubkey(body["pubkey"])
                except ApiError:
                    raise bad_request("invalid public key: bad data during user update") from None
            if body["name"] and body["name"] != current["name"]:
                raise bad_request("can not update name: bad data during user update")
            for key in ("pubkey", "email", "description", "host"):
                if body[key]:
                    current[key] = body[key]
            clash = conn.execute(
                "SELECT 1 FROM phonebook_users WHERE email = ? AND id != ?", (current["email"], tid)
            ).fetchone()
            if clash:
                raise ApiError(409, "user with same name or email exists")
            conn.execute(
                "UPDATE phonebook_users SET email = ?, doc = ? WHERE id = ?",
                (current["email"], json.dumps(current), tid),
            )

    def validate(self, tid, payload_hex, signature_hex):
        try:
            payload = hex_decode(payload_hex)
        except ValueError as err:
            raise bad_request("payload must be hex encoded string of original data: %s" % err) from None
        try:
            signature = hex_decode(signature_hex)
        except ValueError as err:
            raise bad_request("signature must be hex encoded string of original data: %s" % err) from None
        user = self.get(tid)
        return verify_hex(user["pubkey"], payload, signature)
