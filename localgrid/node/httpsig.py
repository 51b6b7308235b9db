"""Signing side of the draft-cavage HTTP signatures the explorer asks of nodes (docs/contract/explorer.md §2.2).

The verifier lives in the explorer and is written separately on purpose, so the two can only
agree by both following the wire format.
"""

import base64
import email.utils

import httpx

SIGNED_HEADERS = "(created) date threebot-id"
# The Go signer sends an expiry 60 s after creation; the explorer ignores it.
EXPIRES_AFTER = 60


def signing_string(created, date, key_id):
    return "(created): %d\ndate: %s\nthreebot-id: %s" % (created, date, key_id)


def signature_headers(signing_key, key_id, created):
    """The Date, Threebot-Id and Authorization headers for one request signed at ``created``."""
    created = int(created)
    date = email.utils.formatdate(created, usegmt=True)
    signature = signing_key.sign(signing_string(created, date, key_id).encode()).signature
    authorization = (
        'Signature keyId="%s",algorithm="ed25519",created="%d",expires="%d",headers="%s",signature="%s"'
        % (key_id, created, created + EXPIRES_AFTER, SIGNED_HEADERS, base64.b64encode(signature).decode())
    )
    return {"Date": date, "Threebot-Id": key_id, "Authorization": authorization}


class NodeSignatureAuth(httpx.Auth):
    """httpx auth that signs every request as the node (keyId = node id), at grid time."""

    def __init__(self, signing_key, node_id, now):
        self._signing_key = signing_key
        self._node_id = node_id
        self._now = now

    def auth_flow(self, request):
        request.headers.update(signature_headers(self._signing_key, self._node_id, self._now()))
        yield request
