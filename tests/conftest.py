"""Shared test helpers: the fixture-vault harness of HOUSE_STYLE.md section 3."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conceptgraph.api import lint_paths
from conceptgraph.lint import parallel
from conceptgraph.lint.cache import CACHE_DIR_ENV, cache_folder
from conceptgraph.lint.report import text_report
from conceptgraph.model import Finding
from conceptgraph.rdf.store import STORE_DIR

FIXTURES = Path(__file__).parent / "fixtures"

# A suite started in the background of a non-interactive shell (`pytest &`, some CI runners)
# has SIGINT ignored, and every process it starts inherits that: the tests that press Ctrl-C
# on a command would wait for it in vain. A user's terminal delivers SIGINT; so do these tests.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def run_conceptgraph(
    *args: str | Path, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m conceptgraph ARGS`` in a process of its own, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "conceptgraph", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def write_vault(root: Path, files: dict[str, str]) -> Path:
    """A vault at ``root`` holding these notes (vault path: text, UTF-8); returns ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def sharded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every whole-vault run goes through keeping workers; the list counts the runs that did.

    A note a batch, one batch at a time: notes are spread over the workers, and with as
    many workers as notes, each note is read and kept by a worker of its own.
    """
    monkeypatch.setattr(parallel, "MIN_NOTES", 1)
    monkeypatch.setattr(parallel, "_BATCH", 1)
    monkeypatch.setattr(parallel, "_AHEAD", 1)
    runs: list[int] = []
    read = parallel.Shards.read

    def counted(self: parallel.Shards, *args: object, **kwargs: object) -> parallel.Read:
        runs.append(1)
        return read(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel.Shards, "read", counted)
    return runs


@pytest.fixture
def hostile_vault(tmp_path: Path) -> Iterator[Path]:
    """The hostile vault (tests/hostile.py), removed afterwards however deep it goes."""
    from tests import hostile

    root = tmp_path / "hostile"
    hostile.build(root)
    yield root
    hostile.remove_tree(root)


_EXPECT = re.compile(r"expect:\s*([a-z][a-z-]*(?:\s*,\s*[a-z][a-z-]*)*)")


@pytest.fixture(autouse=True, scope="session")
def _caches_outside_the_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Tests lint the fixture vaults with the cache on, as users do; it must not land in them.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_ENV, str(tmp_path_factory.mktemp("lint-caches")))
        yield


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-expected",
        action="store_true",
        help="rewrite each fixture folder's expected.txt from the current output",
    )


def expected_markers(vault: Path) -> set[tuple[str, int, str]]:
    """(path, line, rule) for every `expect: rule` marker in the vault's notes, plus the lines
    of an EXPECTED file (`path:line rule`) for files that cannot hold a marker."""
    found: set[tuple[str, int, str]] = set()
    for path in sorted(vault.rglob("*.md")):
        rel = path.relative_to(vault).as_posix()
        text = path.read_bytes().decode("utf-8", "replace")
        for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
            for match in _EXPECT.finditer(line):
                for rule in match.group(1).split(","):
                    found.add((rel, number, rule.strip()))
    sidecar = vault / "EXPECTED"
    if sidecar.exists():
        for line in sidecar.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                where, rule = line.split()
                rel, number = where.rsplit(":", 1)
                found.add((rel, int(number), rule))
    return found


def fixture_vaults(family: str) -> Iterator[Path]:
    yield from sorted(p for p in (FIXTURES / family).iterdir() if p.is_dir())


def lint_fixture(vault: Path) -> list[Finding]:
    return lint_paths([vault], jobs=1).findings


def check_fixture(vault: Path, rule: str, update: bool) -> None:
    """The rule's findings in the vault are exactly its markers; the text output is as reviewed."""
    findings = lint_fixture(vault)
    got = {(f.path, f.line, f.rule) for f in findings if f.rule == rule}
    want = {m for m in expected_markers(vault) if m[2] == rule}
    assert got == want, (
        f"missing: {sorted(want - got)}\nunexpected: {sorted(got - want)}\n" + text_report(findings)
    )
    snapshot = vault / "expected.txt"
    output = text_report(findings)
    if update or not snapshot.exists():
        snapshot.write_text(output, encoding="utf-8")
    assert output == snapshot.read_text(encoding="utf-8")


def settled_copies(root: Path) -> None:
    """Wait for the processes that keep copies of the vault's triples to be done.

    A query that keeps a copy leaves it to a process of its own (``storecache.copying``),
    which leaves nothing half made behind once done.
    """
    folder = cache_folder(root.resolve()) / STORE_DIR
    deadline = time.monotonic() + 120
    while folder.is_dir() and any(p.name.startswith(".tmp-") for p in folder.iterdir()):
        assert time.monotonic() < deadline, "a copy was still being kept after two minutes"
        time.sleep(0.05)
