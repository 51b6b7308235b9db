"""A UDP relay from a node's loopback endpoint on the host into a network namespace.

A node's public endpoint in localgrid is a loopback address of this machine (127.0.1.N). Each
network resource's WireGuard listens inside its own namespace, and nodes may share a listen port,
so localgrid binds ``endpoint:port`` on the host and relays each client's datagrams through a
socket of its own inside the namespace to ``127.0.0.1:port`` there, and the answers back.
"""

import logging
import os
import selectors
import socket
import threading

from localgrid.runtime.syscalls import in_throwaway_thread

log = logging.getLogger(__name__)
MAX_DATAGRAM = 65535


def socket_in(netns_path, kind=socket.SOCK_DGRAM):
    """A socket (UDP unless ``kind`` says otherwise) created inside the network namespace at ``netns_path``."""
    def make():
        with open(netns_path, "rb") as handle:
            os.setns(handle.fileno(), os.CLONE_NEWNET)
        return socket.socket(socket.AF_INET, kind)

    return in_throwaway_thread(make, "netns-socket")


class UdpRelay:
    def __init__(self, endpoint, port, netns_path):
        self.port = port
        self.netns_path = netns_path
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.listener.bind((endpoint, port))  # raises OSError (address in use) before anything starts
        self._clients = {}
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.listener, selectors.EVENT_READ, None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relay-%s:%d" % (endpoint, port), daemon=True)
        self._thread.start()

    def _upstream(self, client):
        upstream = self._clients.get(client)
        if upstream is None:
            upstream = socket_in(self.netns_path)
            upstream.connect(("127.0.0.1", self.port))
            self._clients[client] = upstream
            self._selector.register(upstream, selectors.EVENT_READ, client)
        return upstream

    def _run(self):
        while not self._stop.is_set():
            for key, _events in self._selector.select(timeout=0.5):
                try:
                    if key.data is None:
                        data, client = self.listener.recvfrom(MAX_DATAGRAM)
                        self._upstream(client).send(data)
                    else:
                        self.listener.sendto(key.fileobj.recv(MAX_DATAGRAM), key.data)
                except OSError as error:  # e.g. nothing listens in the namespace yet: the peer retries
                    log.debug("relay %d: %s", self.port, error)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        for upstream in self._clients.values():
            upstream.close()
        self.listener.close()
        self._selector.close()
