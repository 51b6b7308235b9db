"""A reverse proxy in front of localgrid that counts what passes: requests and bytes.

The collection benchmarks point a playbook at the proxy to count what one task sends to the explorer
and Horizon. localgrid's own access log would also show the simulated nodes' polls (they talk to the
same server), and it says nothing about response sizes; here only the playbook's traffic passes.
Timed runs talk to localgrid directly: the proxy's own latency is no part of a measured figure.
"""

import http.server
import threading

import httpx

# Hop-by-hop headers (RFC 9110 section 7.6.1) and those httpx recomputes are not forwarded.
_SKIPPED_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                    "proxy-authorization", "proxy-authenticate", "host", "content-length", "content-encoding"}


class CountingProxy:
    """``with CountingProxy(lg.base_url) as proxy:`` then ``proxy.base_url``; ``proxy.counts()``."""

    def __init__(self, target_url):
        self.target_url = target_url.rstrip("/")
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=60)
        self.reset()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _SKIPPED_HEADERS]
                response = proxy._client.request(self.command, proxy.target_url + self.path, content=body,
                                                 headers=headers)
                proxy._count(len(body) + len(self.requestline), len(response.content))
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in _SKIPPED_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def log_message(self, *_args):
                pass  # counted, not logged

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="counting-proxy", daemon=True)
        self._thread.start()

    def _count(self, sent, received):
        with self._lock:
            self._requests += 1
            self._sent += sent
            self._received += received

    def reset(self):
        with self._lock:
            self._requests = self._sent = self._received = 0

    def counts(self):
        """(requests, bytes sent, bytes received) since the last reset."""
        with self._lock:
            return self._requests, self._sent, self._received

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
