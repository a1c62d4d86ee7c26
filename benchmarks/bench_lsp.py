"""Time ``conceptgraph server`` on a generated vault, as an editor's client sees it.

Measured over stdio with pygls's client, in a fresh server process for each start:

- start to first diagnostics: from starting the process to the first diagnostics of the note
  opened with ``didOpen``, without the lint cache (a first start) and with it (every later one);
- a keystroke: ``didChange`` to the edited note's diagnostics (the debounce pause not counted:
  the server runs with ``--debounce 0``), median of several edits;
- dependants: a heading renamed, to the diagnostics of a note (not open) that links to it;
- an alias added: every note's note rules run again, to the last note pushed;
- completion after ``[[`` and two letters, median;
- the server's resident memory (VmRSS of the process) after all of it;
- a rename of the note most others link to, request to workspace edit (where the build has
  the rewriting library, ``conceptgraph.edit``);
- a file deleted on disk and made again (``workspace/didChangeWatchedFiles``), to the
  diagnostics of a note that links to it: its ``broken-link``, then that gone.

    python benchmarks/bench_lsp.py --notes 10000
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_lint import vault_for
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from conceptgraph.config import load_config
from conceptgraph.names import heading_key
from conceptgraph.vault.load import load_vault

_WAIT = 120.0


class Client:
    """A server process and what it pushed, with the time each note's diagnostics came."""

    def __init__(self) -> None:
        self.client = LanguageClient("bench", "1")
        self.pushed: dict[str, tuple[float, list[types.Diagnostic]]] = {}
        self.process_started = 0.0
        self.renames = False

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            self.pushed[params.uri] = (time.perf_counter(), list(params.diagnostics))

    async def start(self, vault: Path) -> None:
        self.process_started = time.perf_counter()
        await self.client.start_io(
            sys.executable, "-m", "conceptgraph", "server", "--debounce", "0", str(vault)
        )
        started = await self.client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=vault.as_uri())
        )
        self.renames = started.capabilities.rename_provider is not None
        self.client.initialized(types.InitializedParams())

    async def until(
        self, uri: str, after: float, check: Callable[[list[types.Diagnostic]], bool]
    ) -> float:
        """When diagnostics of ``uri`` pushed after ``after`` first passed ``check``."""
        deadline = time.perf_counter() + _WAIT
        while time.perf_counter() < deadline:
            got = self.pushed.get(uri)
            if got is not None and got[0] > after and check(got[1]):
                return got[0]
            await asyncio.sleep(0.001)
        raise SystemExit(f"no such diagnostics for {uri} in {_WAIT:.0f} s")

    def open(self, uri: str, text: str) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="markdown", version=1, text=text
                )
            )
        )

    def change(self, uri: str, version: int, text: str) -> float:
        sent = time.perf_counter()
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return sent

    async def stop(self) -> int:
        """Shut the server down; returns its resident memory just before, in KiB."""
        assert self.client._server is not None
        status = Path(f"/proc/{self.client._server.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()
        return rss


def _progress(message: str) -> None:
    print(f"  ... {message}", file=sys.stderr, flush=True)


def _with_alias(text: str) -> str:
    """The note with one alias more (and a frontmatter, if it had none)."""
    if "\naliases:\n" in text:
        return text.replace("\naliases:\n", "\naliases:\n  - bench alias\n", 1)
    if text.startswith("---\n"):
        return text.replace("---\n", "---\naliases: [bench alias]\n", 1)
    return "---\naliases: [bench alias]\n---\n" + text


def _recheck_all(vault: Path, note: str) -> float:
    """In this process: the server's work after a frontmatter edit, every note checked again."""
    from conceptgraph.lsp.workspace import Workspace

    ws = Workspace(vault)
    start = time.perf_counter()
    update = ws.update(note, _with_alias(ws.text(note)))
    ws.check(update.dependants)
    ws.check_vault_rules()
    return time.perf_counter() - start


def _most_linked(vault: Path) -> tuple[str, int, str, types.Position]:
    """The note most others link to, how many do, and a link to it (note, position)."""
    loaded = load_vault(vault, load_config(vault))
    path, sources = max(loaded.backlinks.items(), key=lambda item: len(item[1]))
    source = sorted(sources)[0]
    link = next(lk for lk, found in loaded.resolved(loaded.notes[source]) if found.path == path)
    at = types.Position(line=link.span.line - 1, character=link.span.column + 1)
    return path, len(sources), source, at


async def _rename(vault: Path, source: str, at: types.Position) -> float:
    """A rename of the note a link names, from request to workspace edit."""
    client = Client()
    await client.start(vault)
    uri = (vault / source).as_uri()
    client.open(uri, (vault / source).read_text(encoding="utf-8"))
    await client.until(uri, 0, lambda d: True)
    if not client.renames:
        await client.stop()
        return float("nan")
    # The rest of the vault's diagnostics are pushed after the first: a request answered
    # after them, so that the rename is timed alone.
    await client.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    start = time.perf_counter()
    await client.client.text_document_rename_async(
        types.RenameParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=at, new_name="renamed"
        )
    )
    took = time.perf_counter() - start
    await client.stop()
    return took


def _least_linked(vault: Path, besides: set[str]) -> tuple[str, str]:
    """The note fewest others link to (neither of ``besides``), and one that does."""
    loaded = load_vault(vault, load_config(vault))
    path, sources = min(
        (
            (path, sorted(sources))
            for path, sources in loaded.backlinks.items()
            if path in loaded.notes and not {path, *sources} & besides
        ),
        key=lambda item: (len(item[1]), item[0]),
    )
    return path, sources[0]


def _broken(count: int) -> Callable[[list[types.Diagnostic]], bool]:
    """Whether diagnostics hold ``count`` broken links."""
    return lambda found: sum(d.code == "broken-link" for d in found) == count


async def _created_and_deleted(
    client: Client, vault: Path, gone: str, dependant: str
) -> dict[str, float]:
    """A note's file deleted, then made again: each to the diagnostics of a note linking there."""
    figures: dict[str, float] = {}
    uri = (vault / dependant).as_uri()
    # The dependant is not open: its diagnostics are those pushed at the start, if any.
    before = sum(d.code == "broken-link" for d in client.pushed.get(uri, (0.0, []))[1])
    file = vault / gone
    text = file.read_bytes()
    for change, name in (
        (types.FileChangeType.Deleted, "file deleted"),
        (types.FileChangeType.Created, "file created"),
    ):
        if change is types.FileChangeType.Deleted:
            file.unlink()
        else:
            file.write_bytes(text)
        sent = time.perf_counter()
        client.client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=file.as_uri(), type=change)]
            )
        )
        wanted = before + 1 if change is types.FileChangeType.Deleted else before
        figures[f"{name}, dependant"] = await client.until(uri, sent, _broken(wanted)) - sent
        _progress(name)
    return figures


def _pick(vault: Path) -> tuple[str, str, str]:
    """A note, one of its headings that other notes link to, and one of those notes."""
    loaded = load_vault(vault, load_config(vault))
    best: tuple[int, str, str, str] = (0, "", "", "")
    counts: dict[tuple[str, str], list[str]] = {}
    for note in loaded.notes.values():
        for link, found in loaded.resolved(note):
            if (
                found.path
                and link.subpath
                and not link.subpath.startswith("^")
                and found.path != note.path
            ):
                counts.setdefault((found.path, heading_key(link.subpath)), []).append(note.path)
    for (path, key), sources in counts.items():
        target = loaded.notes[path]
        heading = next((h.text for h in target.headings if heading_key(h.text) == key), None)
        if heading is not None and len(sources) > best[0]:
            best = (len(sources), path, heading, sources[0])
    return best[1], best[2], best[3]


async def _session(
    vault: Path, note: str, heading: str, dependant: str, edits: int
) -> dict[str, float]:
    figures: dict[str, float] = {}
    client = Client()
    await client.start(vault)
    uri = (vault / note).as_uri()
    text = (vault / note).read_text(encoding="utf-8")
    client.open(uri, text)
    figures["first diagnostics"] = (
        await client.until(uri, 0, lambda d: True) - client.process_started
    )
    # Keystrokes in the body: a letter typed at the end of the first paragraph line.
    lines = text.split("\n")
    body = lines.index("---", 1) + 1 if lines[0] == "---" else 0
    at = next(
        i
        for i, line in enumerate(lines)
        if i > body and line and not line.startswith(("#", "-", ">", "|"))
    )
    times = []
    version = 1
    for _ in range(edits):
        version += 1
        lines[at] += "x"
        sent = client.change(uri, version, "\n".join(lines))
        times.append(await client.until(uri, sent, lambda d: True) - sent)
    figures["keystroke, edited note (median)"] = statistics.median(times)
    _progress("typed")
    # A heading renamed: a note that links to it gets a broken-heading.
    version += 1
    renamed = "\n".join(lines).replace(f"# {heading}\n", f"# {heading} renamed\n", 1)
    sent = client.change(uri, version, renamed)
    dep_uri = (vault / dependant).as_uri()
    figures["heading renamed, edited note"] = await client.until(uri, sent, lambda d: True) - sent
    _progress("heading renamed")
    figures["heading renamed, dependant"] = (
        await client.until(dep_uri, sent, lambda d: any(x.code == "broken-heading" for x in d))
        - sent
    )
    version += 1
    sent = client.change(uri, version, "\n".join(lines))
    await client.until(dep_uri, sent, lambda d: True)
    # Completion after "[[" and two letters, at the end of the document.
    completion_times = []
    typed = "\n".join(lines) + "\n\n[[mi"
    version += 1
    client.change(uri, version, typed)
    for _ in range(edits):
        start = time.perf_counter()
        await client.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=len(typed.split("\n")) - 1, character=4),
            )
        )
        completion_times.append(time.perf_counter() - start)
    figures["completion (median)"] = statistics.median(completion_times)
    _progress("completed")
    # An alias added: every note's note rules again; timed to the last note pushed.
    version += 1
    aliased = _with_alias(text)
    sent = client.change(uri, version, aliased)
    figures["frontmatter edit, edited note"] = await client.until(uri, sent, lambda d: True) - sent
    gone, linking = _least_linked(vault, {note, dependant})
    figures |= await _created_and_deleted(client, vault, gone, linking)
    figures["resident memory (MiB)"] = await client.stop() / 1024
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "conceptgraph-bench"
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    source = vault_for(args.workdir, args.notes, args.seed)
    vault = args.workdir / f"lsp-{args.notes}"
    if vault.exists():
        shutil.rmtree(vault)
    shutil.copytree(source, vault)
    vault = vault.resolve()
    note, heading, dependant = _pick(vault)
    print(f"{args.notes} notes; editing {note}, heading {heading!r} linked from {dependant}")
    print(
        f"frontmatter edit, every note checked again (in process): "
        f"{_recheck_all(vault, note) * 1000:.0f} ms"
    )
    shutil.rmtree(vault / ".conceptgraph-cache", ignore_errors=True)
    target, linked, source, at = _most_linked(vault)
    took = asyncio.run(_rename(vault, source, at))
    shown = "no rename in this build" if took != took else f"{took * 1000:.0f} ms"
    print(f"rename of {target}, linked from {linked} notes: {shown}")
    shutil.rmtree(vault / ".conceptgraph-cache", ignore_errors=True)
    for run in ("no cache (first start)", "with the cache"):
        figures = asyncio.run(_session(vault, note, heading, dependant, args.edits))
        print(f"\n{run}:")
        for name, value in figures.items():
            shown = f"{value:8.1f}" if "MiB" in name else f"{value * 1000:8.1f} ms"
            print(f"  {name:42} {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
