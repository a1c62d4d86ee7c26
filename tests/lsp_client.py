"""A real language client (pygls's) speaking to ``conceptgraph server`` in a process of its own."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

# Generous: the suite shares the machine with other work.
WAIT = 60.0


@dataclass
class Session:
    """A client started and initialised against one vault, and what the server pushed."""

    client: LanguageClient
    vault: Path
    diagnostics: dict[str, list[types.Diagnostic]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    def uri(self, rel: str) -> str:
        return (self.vault / rel).resolve().as_uri()

    async def wait_for(
        self, rel: str, check: Callable[[list[types.Diagnostic]], bool]
    ) -> list[types.Diagnostic]:
        """The diagnostics of a note, once the server pushed some that pass ``check``."""
        uri = self.uri(rel)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            found = self.diagnostics.get(uri)
            if found is not None and check(found):
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"no such diagnostics for {rel}: {self.diagnostics.get(uri)}")

    def open(self, rel: str, text: str | None = None) -> None:
        path = self.vault / rel
        self.versions[rel] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri(rel),
                    language_id="markdown",
                    version=1,
                    text=path.read_text(encoding="utf-8") if text is None else text,
                )
            )
        )

    def change(self, rel: str, text: str) -> None:
        self.versions[rel] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri(rel), version=self.versions[rel]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


@contextlib.asynccontextmanager
async def session(
    vault: Path, capabilities: types.ClientCapabilities | None = None
) -> AsyncIterator[Session]:
    """A server process for ``vault``, initialised; shut down and exited on the way out."""
    client = LanguageClient("conceptgraph-tests", "1")
    started = Session(client, vault)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        started.diagnostics[params.uri] = list(params.diagnostics)

    await client.start_io(sys.executable, "-m", "conceptgraph", "server", str(vault))
    await client.initialize_async(
        types.InitializeParams(
            capabilities=capabilities or types.ClientCapabilities(),
            root_uri=vault.resolve().as_uri(),
        )
    )
    client.initialized(types.InitializedParams())
    try:
        yield started
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
