# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import ssl

import pytest

from ansible_collections.threefold.grid.plugins.module_utils._explorer import ExplorerClient
from ansible_collections.threefold.grid.plugins.module_utils._tls import CertificatesOnFirstUse, verify_option


def ca_count(context):
    return context.cert_store_stats()["x509_ca"]


@pytest.mark.parametrize("url, validate", [("https://explorer.grid.tf/explorer", True),
                                           ("https://explorer.grid.tf/explorer", False),
                                           ("http://127.0.0.1:8080/explorer", False)])
def test_https_urls_and_unverified_clients_keep_httpx_defaults(url, validate):
    assert verify_option(url, validate) is validate


def test_an_http_url_gets_a_verifying_context_without_certificates_yet():
    context = verify_option("HTTP://127.0.0.1:8080/explorer")
    assert isinstance(context, CertificatesOnFirstUse)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert ca_count(context) == 0


def test_the_certificates_are_loaded_before_the_first_handshake(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context = verify_option("http://127.0.0.1:8080/explorer")
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="explorer.grid.tf")
    loaded = ca_count(context)
    assert loaded > 0
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="explorer.grid.tf")
    assert ca_count(context) == loaded  # once


def test_ssl_cert_file_is_honoured_like_httpx_does(monkeypatch):
    import certifi

    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    monkeypatch.setenv("SSL_CERT_DIR", "/nonexistent")  # httpx prefers the file too
    loaded = []
    context = CertificatesOnFirstUse(ssl.PROTOCOL_TLS_CLIENT)
    monkeypatch.setattr(CertificatesOnFirstUse, "load_verify_locations",
                        lambda self, cafile=None, capath=None: loaded.append((cafile, capath)))
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="explorer.grid.tf")
    assert loaded == [(certifi.where(), None)]


def test_an_http_explorer_client_defers_its_certificates():
    with ExplorerClient("http://127.0.0.1:8080/explorer") as client:
        context = client._http._transport._pool._ssl_context
        assert isinstance(context, CertificatesOnFirstUse) and ca_count(context) == 0
