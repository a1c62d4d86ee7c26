"""Batches of work shared between a process pool and this process."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    from concurrent.futures import Future

    from conceptgraph.progress import Progress

T = TypeVar("T")
R = TypeVar("R")


def share(
    futures: Sequence[Future[R]],
    here: Callable[[int], T],
    sizes: Sequence[int],
    bar: Progress | None = None,
    received: Callable[[R], T] | None = None,
) -> Iterator[T]:
    """The result of every batch, in order, each batch already submitted to a pool.

    This process is a worker too: while the pool takes batches from the front, it runs those
    not started yet from the back with ``here(index)``, so only the pool's share pays for
    pickling. ``sizes`` are the batches' steps on the progress bar. ``received`` turns what a
    worker sent into what ``here`` gives, when the two differ (records sent packed, say).
    """
    if bar is not None:
        for future, size in zip(futures, sizes, strict=True):
            future.add_done_callback(bar.when_done(size))
    done: dict[int, T] = {}
    for index in reversed(range(len(futures))):
        if not futures[index].cancel():
            break
        done[index] = here(index)
        if bar is not None:
            bar.advance(sizes[index])
    for index, future in enumerate(futures):
        if index in done:
            yield done[index]
        elif received is not None:
            yield received(future.result())
        else:
            yield cast(T, future.result())
