"""Verify draft-cavage HTTP signatures (ed25519) as the explorer's auth middleware does (docs/contract/explorer.md §2)."""

import base64
import email.utils
import re

import nacl.exceptions
import nacl.signing

from localgrid.explorer.errors import Unauthorized
from localgrid.keys import b58decode

REQUIRED_HEADERS = ("(created)", "date", "threebot-id")
_PARAM = re.compile(r'(\w+)="([^"]*)"')


def parse_authorization(value):
    if not value or not value.startswith("Signature "):
        raise Unauthorized("no params present")
    params = dict(_PARAM.findall(value[len("Signature ") :]))
    if not params:
        raise Unauthorized("no params present")
    return params


def signing_string(params, request):
    """The lines for the client's `headers` list, in its order, joined with newlines."""
    lines = []
    for name in params.get("headers", "").split():
        if name == "(created)":
            lines.append("(created): " + params.get("created", ""))
        elif name == "(expires)":
            lines.append("(expires): " + params.get("expires", ""))
        elif name == "(request-target)":
            target = request.url.path + ("?" + request.url.query if request.url.query else "")
            lines.append("(request-target): %s %s" % (request.method.lower(), target))
        elif name == "date":
            # A missing Date is filled with the server's current time, so the signature fails.
            lines.append("date: " + request.headers.get("date", email.utils.formatdate(usegmt=True)))
        else:
            lines.append("%s: %s" % (name, request.headers.get(name, "")))
    return "\n".join(lines)


def verify(request, key_lookup):
    """Check the request's signature; ``key_lookup(key_id)`` returns 32 public-key bytes.

    Returns the keyId. Raises Unauthorized with the explorer's cause strings.
    """
    params = parse_authorization(request.headers.get("authorization", ""))
    key_id = params.get("keyId", "")
    if not key_id:
        raise Unauthorized("keyId is required")
    if params.get("algorithm") != "ed25519":
        raise Unauthorized("algorithm is required")
    try:
        signature = base64.b64decode(params.get("signature", ""), validate=True)
    except ValueError:
        raise Unauthorized("signature is required") from None
    if not signature:
        raise Unauthorized("signature is required")
    if "threebot-id" not in request.headers:
        raise Unauthorized("expected threebot-id to exists")
    listed = params.get("headers", "").split()
    for name in REQUIRED_HEADERS:
        if name not in listed:
            raise Unauthorized('missing required header in signature "%s"' % name)
    public_key = key_lookup(key_id)
    if len(public_key) != 32:
        raise Unauthorized("public key has the wrong size")
    try:
        nacl.signing.VerifyKey(public_key).verify(signing_string(params, request).encode(), signature)
    except (nacl.exceptions.BadSignatureError, ValueError):
        raise Unauthorized("signature verification failed") from None
    return key_id


def node_key(key_id):
    """Node keys: the keyId is the base58 public key itself, no lookup."""
    try:
        return b58decode(key_id)
    except ValueError:
        return b""
