"""A container's stdout and stderr: into its output file, and PUBLISHed to its redis log channels.

0-OS ships each line of a container's stdout/stderr to the redis pub/sub channel of the workload's
``logs`` entries (``redis://host[:port]/channel``, port 6379 by default). localgrid does the same
for redis servers on this machine only (loopback hosts): it never sends a packet elsewhere.
"""

import ipaddress
import logging
import socket
import threading
import urllib.parse

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 2.0


class LogChannelError(ValueError):
    pass


def _resp(*parts):
    chunks = [b"*%d\r\n" % len(parts)]
    for part in parts:
        chunks.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(chunks)


class RedisChannel:
    def __init__(self, url):
        parsed = urllib.parse.urlparse(url)
        channel = parsed.path.lstrip("/")
        if parsed.scheme != "redis" or not parsed.hostname or not channel:
            raise LogChannelError("%r is not redis://host[:port]/channel" % url)
        host = "127.0.0.1" if parsed.hostname == "localhost" else parsed.hostname
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise LogChannelError("%s is not on this machine: localgrid only ships logs to loopback redis servers" % url)
        self.url = url
        self.address = (host, parsed.port or 6379)
        self.channel = channel.encode()
        self._socket = None
        self._failed = False

    def publish(self, line):
        for _attempt in range(2):  # one reconnect: the server may have restarted since the last line
            try:
                if self._socket is None:
                    self._socket = socket.create_connection(self.address, timeout=CONNECT_TIMEOUT)
                self._socket.sendall(_resp(b"PUBLISH", self.channel, line))
                self._socket.recv(64)  # ":<receivers>\r\n"
                self._failed = False
                return
            except OSError as error:
                self.close()
                failure = error
        if not self._failed:  # once per outage, not once per line
            log.warning("log channel %s: %s", self.url, failure)
            self._failed = True

    def close(self):
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def channels(logs):
    """(stdout channels, stderr channels) of a workload's ``logs`` entries; unusable ones are logged and left out."""
    out, err = [], []
    for entry in logs or []:
        if (entry or {}).get("type") != "redis":
            continue
        for key, target in (("stdout", out), ("stderr", err)):
            url = ((entry.get("data") or {}).get(key)) or ""
            if not url:
                continue
            try:
                target.append(RedisChannel(url))
            except LogChannelError as error:
                log.warning("container log channel ignored: %s", error)
    return out, err


class OutputFile:
    """The container's output file, shared by its stdout and stderr pumps and the runtime's own notes."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()

    def write(self, data):
        with self._lock, open(self.path, "ab") as handle:
            handle.write(data)


def pump(stream, output, targets):
    """Copy ``stream`` line by line until EOF (in a daemon thread)."""

    def run():
        with stream:
            for line in iter(stream.readline, b""):
                output.write(line)
                for channel in targets:
                    channel.publish(line.rstrip(b"\n"))

    thread = threading.Thread(target=run, name="container-output", daemon=True)
    thread.start()
    return thread
