"""A progress bar on a terminal's stderr, for runs long enough to wonder about.

Library code reports stages and steps through :func:`stage` and :func:`advance`, which do
nothing unless the command line installed a :class:`Progress` for this run (``lint`` in its
text format, stderr a terminal). The bar appears only once the run has taken longer than a
delay (a second), so short runs never import tqdm, and it is erased when the stage ends: the
report on stdout is left as it would be without it.
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future

# Seconds a run takes before its bar is shown.
DELAY_ENV = "CONCEPTGRAPH_PROGRESS_DELAY"
_DEFAULT_DELAY = 1.0


class Progress:
    """The bar of one run: a stage at a time ("Reading notes", "Checking"), with its steps."""

    def __init__(self, stream: IO[str], delay: float = _DEFAULT_DELAY) -> None:
        self._stream = stream
        self._delay = delay
        self._started = time.monotonic()
        # Worker processes forked from this one inherit the object: only this one draws.
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._bar: Any = None
        self._name = ""
        self._total = 0
        self._done = 0

    def stage(self, name: str, total: int) -> None:
        """Start a stage of ``total`` steps (the previous one ends)."""
        with self._lock:
            self._close()
            self._name, self._total, self._done = name, total, 0

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more steps of the current stage done."""
        if os.getpid() != self._pid:
            return
        with self._lock:
            self._done += steps
            if self._bar is not None:
                self._bar.update(steps)
            elif time.monotonic() - self._started >= self._delay and self._total:
                from tqdm import tqdm  # only now: a run over before the delay never needs it

                # No monitor thread: a run may fork once its bar is up (``write_apart``).
                tqdm.monitor_interval = 0

                self._bar = tqdm(
                    total=self._total,
                    initial=self._done,
                    desc=self._name,
                    unit="",
                    file=self._stream,
                    leave=False,
                    dynamic_ncols=True,
                )

    def when_done(self, steps: int) -> Callable[[Future[Any]], None]:
        """A callback for a future: ``steps`` done when it completes, unless cancelled.

        It is called from the pool's thread, which does not see this run's context.
        """

        def done(future: Future[Any]) -> None:
            if not future.cancelled():
                self.advance(steps)

        return done

    def close(self) -> None:
        """Erase the bar."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


_CURRENT: contextvars.ContextVar[Progress | None] = contextvars.ContextVar(
    "conceptgraph_progress", default=None
)


def current() -> Progress | None:
    """The bar of this run, if one was installed; hand it to threads, which do not inherit it."""
    return _CURRENT.get()


def stage(name: str, total: int) -> None:
    """Start a stage on this run's bar, if it has one."""
    bar = _CURRENT.get()
    if bar is not None:
        bar.stage(name, total)


def advance(steps: int = 1) -> None:
    """Count steps done on this run's bar, if it has one."""
    bar = _CURRENT.get()
    if bar is not None:
        bar.advance(steps)


@contextmanager
def shown(stream: IO[str]) -> Iterator[None]:
    """Show a bar on ``stream`` for what runs inside, if it is a terminal."""
    if not stream.isatty():
        yield
        return
    try:
        delay = float(os.environ.get(DELAY_ENV, _DEFAULT_DELAY))
    except ValueError:
        delay = _DEFAULT_DELAY
    bar = Progress(stream, delay)
    token = _CURRENT.set(bar)
    try:
        yield
    finally:
        _CURRENT.reset(token)
        bar.close()
