"""Push a vault's graph into an existing triple store over the SPARQL 1.1 Graph Store Protocol.

One ``PUT`` replaces the named graph, so a re-push leaves no stale triples and readers never
see half a graph. The N-Triples body is streamed in chunks (HTTP chunked transfer), which keeps
memory flat and lets the CLI show progress; one request also keeps blank nodes whole, which
separate requests would split apart. Credentials go in the ``Authorization`` header and never
into a message: a store that echoes the request back in an error (a proxy's 401 page, a debug
500) has every form of the secret, and any ``Authorization`` header, cut from what we print.
"""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from conceptgraph.errors import ConceptgraphError

CHUNK_BYTES = 1 << 20
HIDDEN = "[hidden]"
# An echoed header, whatever its scheme (Basic, Bearer, Digest with its parameters).
_AUTHORIZATION = re.compile(r"((?:proxy-)?authorization\s*[:=]\s*)[^\r\n]*", re.IGNORECASE)


class PushError(ConceptgraphError):
    """The store refused the graph or could not be reached."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """What was sent where, and what the store answered."""

    store: str
    graph: str
    triples: int
    bytes: int
    status: int


def redact(url: str) -> str:
    """A URL fit to print: any ``user:password@`` is removed."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def _secret_forms(store: str, user: str | None, password: str | None) -> list[str]:
    """Every spelling of the credentials an echo could carry, longest first."""
    forms = {urllib.parse.urlsplit(store).netloc.rpartition("@")[0]}
    if user is not None:
        pair = f"{user}:{password or ''}"
        forms |= {base64.b64encode(pair.encode()).decode("ascii"), pair}
    if password:
        forms |= {password, urllib.parse.quote(password, safe=""), urllib.parse.quote(password)}
    return sorted((form for form in forms if form), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with any ``Authorization`` header and every one of ``secrets`` hidden."""
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + HIDDEN, text)
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    return text


def graph_url(store: str, graph: str) -> str:
    """The Graph Store Protocol URL of one named graph: ``STORE?graph=IRI``."""
    separator = "&" if urllib.parse.urlsplit(store).query else "?"
    return store + separator + urllib.parse.urlencode({"graph": graph})


def push_ntriples(
    data: bytes,
    store: str,
    graph: str,
    user: str | None = None,
    password: str | None = None,
    progress: Callable[[int], None] | None = None,
    timeout: float = 300.0,
) -> PushResult:
    """Replace the named graph ``graph`` in the store at ``store`` with these N-Triples."""
    parts = urllib.parse.urlsplit(store)
    if parts.scheme not in ("http", "https"):
        raise PushError(f"the store must be an http(s) URL, not {redact(store)!r}")
    if user is None and parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
    clean = redact(store)
    request = urllib.request.Request(
        graph_url(clean, graph),
        data=_chunks(data, progress),
        method="PUT",
        headers={"Content-Type": "application/n-triples"},
    )
    if user is not None:
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        body = exc.read(2000).decode("utf-8", "replace").strip()
        said = scrub(f"HTTP {exc.code} {exc.reason}: {body}", _secret_forms(store, user, password))
        raise PushError(f"{clean} answered {said}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = scrub(str(getattr(exc, "reason", exc)), _secret_forms(store, user, password))
        raise PushError(f"cannot reach {clean}: {reason}") from None
    triples = data.count(b"\n")
    return PushResult(clean, graph, triples, len(data), status)


def _chunks(data: bytes, progress: Callable[[int], None] | None) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK_BYTES):
        chunk = data[start : start + CHUNK_BYTES]
        yield chunk
        if progress is not None:
            progress(len(chunk))
