"""Links to a name many files share resolve through an index, exactly as by sorting them all.

The reference below is the resolution as it was written before the index (every file of the
name scanned and sorted for each linking note): for a name that fits more files than
``_RANKED_DIRECTLY`` (vault/resolve.py), ``Vault`` now answers from ``_Ranking`` instead. Here
the threshold is lowered so that small generated vaults take that path; every answer is compared.
"""

from __future__ import annotations

import posixpath
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conceptgraph.config import Config
from conceptgraph.names import fold
from conceptgraph.vault import load as vault_module
from conceptgraph.vault import resolve
from conceptgraph.vault.load import Vault
from conceptgraph.vault.resolve import _case_first


def _reference(files: list[str], linkpath: str, source: str) -> tuple[str | None, list[str]]:
    written = unicodedata.normalize("NFC", linkpath.replace("\u00a0", " ").strip())
    name = written.lower()
    base = posixpath.basename(name)
    bucket = [p for p in files if fold(posixpath.basename(p)) == base] if "." in base else []
    if not bucket:
        name += ".md"
        base = posixpath.basename(name)
        bucket = [p for p in files if fold(posixpath.basename(p)) == base]
    if not bucket:
        return None, []
    if base == name and len(bucket) == 1:
        return bucket[0], bucket
    folder = fold(posixpath.dirname(source))
    relative = name.startswith(("./", "../"))
    if relative:
        name = posixpath.normpath(posixpath.join(folder, name))
        exact = [p for p in bucket if fold(p) == name]
        if exact:
            ordered = sorted(exact, key=_case_first(written))
            return ordered[0], ordered
    rooted = name.startswith("/")
    name = name.removeprefix("/")
    exact = [p for p in bucket if fold(p) == name]
    if exact:
        ordered = sorted(exact, key=_case_first(written))
        return ordered[0], ordered
    if rooted:
        return None, []
    matches = sorted((p for p in bucket if fold(p).endswith(name)), key=_case_first(written))
    near = sorted((p for p in matches if fold(p).startswith(folder)), key=len)
    far = sorted((p for p in matches if not fold(p).startswith(folder)), key=len)
    ranked = near + far
    return (ranked[0] if ranked else None), ranked


# Folders whose names are prefixes of each other's ("a", "ab"), case variants, nesting: the
# places where a string-prefix or suffix test and a component test would differ.
_FOLDERS = ["", "a/", "ab/", "A/", "a/b/", "ab/b/", "b/", "x/a/", "x/ab/c/", "Topic/", "topic/"]
_BASES = ["index.md", "Index.md", "note.md", "b/index.md", "c/index.md"]


@st.composite
def _vaults(draw: st.DrawFn) -> list[str]:
    paths = draw(
        st.lists(
            st.tuples(st.sampled_from(_FOLDERS), st.sampled_from(_BASES)).map("".join),
            min_size=1,
            max_size=24,
            unique=True,
        )
    )
    return paths


_LINKS = [
    "index",
    "Index",
    "b/index",
    "a/index",
    "ab/index",
    "./index",
    "../index",
    "/index",
    "b/Index",
    "dex",
    "note",
    "c/index",
    "x/ab/c/index",
    "index.md",
    "a/b/index",
]


# The threshold is the same for every example: the fixture need not be reset between them.
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=_vaults(), data=st.data())
def test_the_index_answers_as_the_sort_of_every_file(
    files: list[str], data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault_module, "_RANKED_DIRECTLY", 1)
    vault = Vault(Path("/nowhere"), Config(), {}, tuple(files))
    for _ in range(6):
        source = data.draw(st.sampled_from(files))
        link = data.draw(st.sampled_from(_LINKS))
        found = vault.resolve_linkpath(link, source)
        path, ranked = _reference(files, link, source)
        assert found.path == path, (link, source)
        assert found.matches == len(ranked), (link, source)
        assert found.candidates[0:1] == tuple(ranked[0:1])
        assert set(found.candidates) <= set(ranked)
        if len(ranked) <= 1 + resolve.LISTED:
            assert set(found.candidates) == set(ranked)


def test_a_name_in_every_folder_is_ranked_once_not_per_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 2,000 index.md, each linked from every folder: the files are ranked once for the name,
    # not sorted again for each linking note (which made lint quadratic in such a vault).
    files = tuple(f"topic-{i}/index.md" for i in range(2000))
    vault = Vault(Path("/nowhere"), Config(), {}, files)
    built: list[int] = []
    real = resolve._Ranking.__init__

    def counting(self: resolve._Ranking, matches: list[str], *args: object) -> None:
        built.append(len(matches))
        real(self, matches, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(resolve._Ranking, "__init__", counting)
    for source in files:
        found = vault.resolve_linkpath("index", source)
        assert found.path == source  # the one in the note's own folder
        assert found.matches == 2000
        assert len(found.candidates) == 1 + resolve.LISTED
    assert built == [2000]
