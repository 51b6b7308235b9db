"""UDP relays between a network resource's namespace and the nodes' loopback endpoints on the host.

A node's public endpoint in localgrid is a loopback address of this machine (127.0.1.N). Each
network resource's WireGuard listens inside its own namespace, and nodes may share a listen port,
so localgrid binds ``endpoint:port`` on the host and relays each client's datagrams through a
socket of its own inside the namespace to ``127.0.0.1:port`` there, and the answers back
(UdpRelay). The other way, a resource's WireGuard reaches a peer node's endpoint through a
PeerRelay: inside a namespace every 127/8 address is the namespace's own.
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


class _Relay:
    """One thread moving datagrams between its sockets until closed; ``_forward`` says where each goes."""

    def __init__(self):
        self._sockets = []
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread = None

    def _watch(self, sock, data=None):
        self._sockets.append(sock)
        self._selector.register(sock, selectors.EVENT_READ, data)

    def _start(self, name):
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _forward(self, key):
        raise NotImplementedError

    def _run(self):
        while not self._stop.is_set():
            for key, _events in self._selector.select(timeout=0.5):
                try:
                    self._forward(key)
                except OSError as error:  # e.g. nothing listens at the other end yet: WireGuard retries
                    log.debug("%s: %s", self._thread.name, error)

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for sock in self._sockets:
            sock.close()
        self._selector.close()


class UdpRelay(_Relay):
    """Into the namespace: each client of ``endpoint:port`` on the host gets a socket of its own in the
    namespace, connected to the WireGuard port there."""

    def __init__(self, endpoint, port, netns_path):
        super().__init__()
        self.port = port
        self.netns_path = netns_path
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.listener.bind((endpoint, port))  # raises OSError (address in use) before anything starts
        except OSError:
            self.listener.close()
            raise
        self._watch(self.listener)
        self._clients = {}
        self._start("relay-%s:%d" % (endpoint, port))

    def _upstream(self, client):
        upstream = self._clients.get(client)
        if upstream is None:
            upstream = socket_in(self.netns_path)
            upstream.connect(("127.0.0.1", self.port))
            self._clients[client] = upstream
            self._watch(upstream, client)
        return upstream

    def _forward(self, key):
        if key.data is None:
            data, client = self.listener.recvfrom(MAX_DATAGRAM)
            self._upstream(client).send(data)
        else:
            self.listener.sendto(key.fileobj.recv(MAX_DATAGRAM), key.data)


class PeerRelay(_Relay):
    """Out of the namespace, to another node's endpoint on this machine (in the namespace, 127/8 is its
    own loopback): WireGuard there sends to ``address``, a socket of the relay in the namespace, and
    the relay sends it on from ``source`` (the node's own endpoint, or 127.0.0.1) on the host."""

    def __init__(self, netns_path, source, target):
        super().__init__()
        try:
            self.inner = socket_in(netns_path)
            self._watch(self.inner)
            self.inner.bind(("127.0.0.1", 0))
            self.outer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._watch(self.outer)
            self.outer.bind((source, 0))
            self.outer.connect(target)
        except OSError:
            self.close()
            raise
        self.address = "127.0.0.1:%d" % self.inner.getsockname()[1]
        self._wireguard = None
        self._start("peer-relay-%s:%d" % target)

    def _forward(self, key):
        if key.fileobj is self.inner:
            data, self._wireguard = self.inner.recvfrom(MAX_DATAGRAM)
            self.outer.send(data)
        else:
            data = self.outer.recv(MAX_DATAGRAM)
            if self._wireguard is not None:
                self.inner.sendto(data, self._wireguard)
