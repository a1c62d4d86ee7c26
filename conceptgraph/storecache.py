"""The vault's triples kept on disk between queries, as an Oxigraph store opened read-only.

A query reads every note, builds the graph and loads its triples: about 4 s at 10,000 notes,
where the whole command takes 0.4 s when it opens a stored copy instead. The copy is named by
the vault's *state*: every file's vault path, size, mtime and inode, the configuration, the
base IRI, the conceptgraph code and the Markdown engine, signed with this user's cache key
(that of the lint cache, see :mod:`conceptgraph.cache`). So a copy is used only for the very
vault it was built from, and one planted in a vault from elsewhere has a name no one without
the key can give it. A file written in the last two seconds could change again within its
timestamp tick: then no copy is used or kept.

A copy costs time to write (about 5 s at 10,000 notes: Oxigraph sorts every triple into each
of its indexes) and disk (112 MB there), so the first query in a vault keeps none: it leaves a
mark, and the queries after it keep copies. Such a query writes its triples to a file as it
makes them, answers from memory, and leaves the copy to a process of its own (``copying``):
the query takes no longer than one that keeps nothing. Older copies are removed; a copy is
written under a temporary name and renamed whole, so a query racing another finds a complete
copy or none.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox

from conceptgraph.cache import RACY_NS, cache_folder, code_digest, prepare_folder, signing_key
from conceptgraph.config import Config
from conceptgraph.parsers import parser_in_use
from conceptgraph.vault import discover

STORE_DIR = "rdf"
_SCHEMA = 1
_MARK = "queried"  # left by the first query in a vault: the next ones keep copies
_TEMP = ".tmp-"
# A copy another query may still have open is left alone for this long after it was replaced.
_GRACE_S = 60.0


def state_key(root: Path, config: Config, base: str) -> str | None:
    """The name of the vault's stored copy, or None when the vault is being written to."""
    found = discover(root, config)
    now = time.time_ns()
    prefix = f"{root}{os.sep}"
    stamps = []
    for path, disk in sorted(found.files.items()):
        try:
            info = os.stat(prefix + disk)
        except OSError:
            return None  # gone since it was found: being changed
        if now - info.st_mtime_ns < RACY_NS:
            return None
        stamps.append((path, info.st_size, info.st_mtime_ns, info.st_ino))
    state = (
        _SCHEMA,
        code_digest(),
        parser_in_use(),
        repr(config),
        base,
        sys.version,
        sorted(found.shadowed.items()),
        sorted(record.path for record in found.broken),
        stamps,
    )
    try:
        key = signing_key()
    except OSError:
        return None
    return hmac.new(key, repr(state).encode(), "blake2b").hexdigest()[:40]


def stored(root: Path, key: str) -> ox.Store | None:
    """The copy kept for this state, opened read-only; None if there is none.

    A copy that does not open (damaged on disk: Oxigraph says RuntimeError) is removed, so
    that the query after this one can keep a sound one in its place.
    """
    path = cache_folder(root) / STORE_DIR / key
    if not path.is_dir():
        return None
    try:
        return ox.Store.read_only(str(path))
    except (OSError, RuntimeError):
        shutil.rmtree(path, ignore_errors=True)
        return None


def keeping(root: Path) -> bool:
    """Whether queries are repeated in this vault, so that ``keep`` is worth its time.

    The first query in a vault says no, and leaves a mark that says yes to the next ones: a
    one-shot query in CI pays nothing for a copy no one would read.
    """
    folder = cache_folder(root) / STORE_DIR
    try:
        prepare_folder(folder.parent)
        folder.mkdir(exist_ok=True)
        mark = folder / _MARK
        if mark.exists():
            return True
        mark.touch()
    except OSError:
        pass
    return False


@contextlib.contextmanager
def copying(root: Path, key: str, graph: str) -> Iterator[Callable[[bytes], None]]:
    """A sink for the vault's N-Triples as they are made; a copy is kept of them after.

    The triples go to a file in the store folder. On leaving (unless by an exception), a
    process of its own, in a session of its own, makes the copy for state ``key`` from that
    file and removes it, while this one goes on. Nothing is raised: a copy that cannot be
    written costs the next query time, not an answer.
    """
    folder = cache_folder(root) / STORE_DIR
    source = folder / f"{_TEMP}{os.getpid()}-{secrets.token_hex(4)}.nt"
    failed = False

    def write(data: bytes) -> None:
        nonlocal failed
        if not failed:
            try:
                out.write(data)
            except OSError:  # a full disk, say: no copy, and the query goes on
                failed = True

    try:
        out = open(source, "wb")  # noqa: SIM115  (closed below, before the copy is started)
    except OSError:
        yield lambda data: None  # no copy: the triples go nowhere
        return
    try:
        with out:
            yield write
    except BaseException:
        source.unlink(missing_ok=True)
        raise
    command = [sys.executable, "-c", _KEEP, str(root), key, str(source), graph]
    # This very package, wherever this process found it.
    package = str(Path(__file__).resolve().parent.parent)
    paths = [package, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    _prune(folder, key)  # what copying processes that died left, before another starts
    try:
        if failed or not sys.executable:
            raise OSError("no triples to keep, or no interpreter to keep them")
        # It forks the process that writes the copy, and ends: waited for, it leaves no
        # zombie behind, and the one that writes is no child of this one.
        quiet = subprocess.DEVNULL  # this process may be long gone, and its terminal with it
        subprocess.run(
            command,
            stdin=quiet,
            stdout=quiet,
            stderr=quiet,
            env=env,
            start_new_session=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        source.unlink(missing_ok=True)


# What the process ``copying`` starts runs: ``keep`` on the file of triples, then removes it.
# It ends with an error, and the file is removed, if it cannot import this package.
_KEEP = """
import os, sys
from pathlib import Path
import conceptgraph
if hasattr(os, "fork") and os.fork():
    os._exit(0)
root, key, source, graph = sys.argv[1:]
try:
    from conceptgraph.storecache import keep
    keep(Path(root), key, Path(source), graph)
finally:
    Path(source).unlink(missing_ok=True)
"""


def keep(root: Path, key: str, ntriples: Path, graph: str) -> None:
    """Keep a copy of the vault's triples (an N-Triples file) for its state ``key``.

    Of two copies racing for one state, the first stays. Nothing is raised: a copy that
    cannot be written costs the next query time, not an answer.
    """
    folder = cache_folder(root) / STORE_DIR
    with contextlib.suppress(OSError):
        temp = folder / f"{_TEMP}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            _write(temp, ntriples, graph)
            # Fails if another query kept the same copy first: that one stays.
            os.rename(temp, folder / key)
        except OSError:
            pass
        finally:
            shutil.rmtree(temp, ignore_errors=True)
        _prune(folder, key)


def _write(path: Path, ntriples: Path, graph: str) -> None:
    store = ox.Store(str(path))
    # Read from the file as it loads: the triples need not all be held at once as well.
    target = ox.NamedNode(graph)
    store.bulk_load(path=ntriples, format=ox.RdfFormat.N_TRIPLES, to_graph=target)
    store.flush()
    del store  # closed: the rename must not move files still being written


def _prune(folder: Path, key: str) -> None:
    """Remove the copies of earlier states, and what runs that died left half written."""
    now = time.time()
    for entry in folder.iterdir():
        if entry.name in (key, _MARK):
            continue
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime > _GRACE_S:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()  # the triples of a copy whose process died
