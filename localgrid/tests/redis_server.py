"""A real redis-server for tests, on a free loopback port, and a subscriber that collects what it gets."""

import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    def __init__(self):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        self.port = _free_port()
        self.workdir = tempfile.TemporaryDirectory(prefix="lg-redis.")
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.workdir.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def url(self, channel):
        return "redis://127.0.0.1:%d/%s" % (self.port, channel)

    def subscribe(self, *channels):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=1)
        parts = [b"SUBSCRIBE"] + [channel.encode() for channel in channels]
        sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        return Subscriber(sock)

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.workdir.cleanup()


MESSAGE = re.compile(rb"\*3\r\n\$7\r\nmessage\r\n\$\d+\r\n([^\r]*)\r\n\$(\d+)\r\n")


class Subscriber:
    """Reads the raw RESP stream; ``received`` is everything read so far."""

    def __init__(self, sock):
        self.sock = sock
        self.received = b""

    def read(self):
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.received += chunk
        except socket.timeout:
            pass
        return self.received

    def messages(self):
        """(channel, data) of every published message received so far."""
        found, data = [], self.read()
        for match in MESSAGE.finditer(data):
            size = int(match.group(2))
            found.append((match.group(1).decode(), data[match.end():match.end() + size]))
        return found

    def close(self):
        self.sock.close()
