# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""The TLS settings of an HTTP client that may never open a TLS connection.

httpx builds its verifying SSL context when a client is created, and loading the CA bundle into it
costs about 30 ms: a third of what an idempotent zos_container check does beyond starting its task
(bench/README.md). A client of an http:// explorer (localgrid) never uses it. Such a client gets a
verifying context that loads the certificates the first time it wraps a socket (a proxy that speaks
TLS, say), so verification is deferred, never skipped.
"""

from __future__ import annotations

import os
import ssl
from typing import Union


class CertificatesOnFirstUse(ssl.SSLContext):
    """A client context (hostname checked, certificate required) that loads its CAs before its first handshake.

    The CAs are what httpx loads: $SSL_CERT_FILE, else $SSL_CERT_DIR, else certifi's bundle.
    """

    def _load_certificates(self) -> None:
        if getattr(self, "_certificates_loaded", False):
            return
        if os.environ.get("SSL_CERT_FILE"):
            self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
        elif os.environ.get("SSL_CERT_DIR"):
            self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
        else:
            import certifi  # httpx's own dependency

            self.load_verify_locations(cafile=certifi.where())
        self._certificates_loaded = True

    def wrap_socket(self, *args, **kwargs):  # type: ignore[override]
        self._load_certificates()
        return super(CertificatesOnFirstUse, self).wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args, **kwargs):  # type: ignore[override]
        self._load_certificates()
        return super(CertificatesOnFirstUse, self).wrap_bio(*args, **kwargs)


def verify_option(url: str, validate_certs: bool = True) -> Union[bool, ssl.SSLContext]:
    """httpx's ``verify`` for a client of ``url``: ``validate_certs`` itself, except that a verifying client of
    an http:// URL gets a context loading its certificates on first use."""
    if validate_certs and url.lower().startswith("http://"):
        return CertificatesOnFirstUse(ssl.PROTOCOL_TLS_CLIENT)
    return validate_certs
