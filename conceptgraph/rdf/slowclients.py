"""Bounds on what a client of the endpoint may hold: time to send a request, connections at once.

``http.server`` gives each connection a thread and waits on it as long as the client likes: a
client that sends its headers a byte a second (slowloris) holds a thread for ever, and enough
of them hold the machine. Here each request (its line, headers and body, or the wait for the
next request on a kept-alive connection) has one deadline, however the bytes trickle in; a
reply must make progress within the same time; and past ``max_connections`` at once a new
connection gets a 503 at once and is closed.
"""

from __future__ import annotations

import io
import socket
import threading
import time

BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\nRetry-After: 1\r\nContent-Length: 40\r\n\r\n"
    b"too many connections at once; try again\n"
)


class DeadlineReader(io.RawIOBase):
    """A socket read as a file, each read bounded by the deadline ``arm`` set."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self._sock = sock
        self._seconds = seconds
        self._deadline = time.monotonic() + seconds
        self.started = False  # whether a byte of the request came since ``arm``

    def arm(self) -> None:
        """Start the time a client has for its next request."""
        self._deadline = time.monotonic() + self._seconds
        self.started = False

    def readable(self) -> bool:
        """A reader, as io.BufferedReader asks."""
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Read what has come, waiting no later than the deadline (TimeoutError past it)."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"the request took longer than {self._seconds:g} s to arrive")
        self._sock.settimeout(remaining)
        got = self._sock.recv_into(buffer)
        self.started = self.started or got > 0
        return got


class ConnectionBound:
    """How many connections are served at once, and refusing one past the bound."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    def take(self, sock: socket.socket) -> bool:
        """Whether the connection may be served; if not, it is answered 503 and closed."""
        if self._slots.acquire(blocking=False):
            return True
        try:
            sock.settimeout(1.0)
            sock.sendall(BUSY)
        except OSError:
            pass
        return False

    def give_back(self) -> None:
        """A served connection is over."""
        self._slots.release()
