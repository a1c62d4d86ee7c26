"""A vault's health in one screen: its size, its links, its shape and its findings.

``vault_stats`` works it out from a loaded vault and the findings of a lint run over it;
``stats_text``, ``stats_json`` and ``stats_html`` present it. The HTML is one page with
no outside resource (styles inline, charts drawn here as SVG), so it opens offline and can
be attached to an issue. Every measure is one pass over the notes and their links: the
clusters are a union-find, the bridges one depth-first search, the dependency chains one
walk of the dependency graph's knots in topological order.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass

from conceptgraph.lint.rules.links import _links_out
from conceptgraph.lint.rules.quality import clusters
from conceptgraph.lint.rules.structure import _dependencies
from conceptgraph.model import Finding
from conceptgraph.vault.discovery import is_note_path
from conceptgraph.vault.load import Vault
from conceptgraph.vault.read import NotesOnDemand

TOP = 10  # notes listed in each ranking
CHAINS = 5  # dependency chains listed
CHAIN_SHOWN = 12  # notes of a chain spelled out


@dataclass(frozen=True, slots=True)
class VaultStats:
    """What ``conceptgraph stats`` reports; every field is plain JSON."""

    vault: str
    notes: int
    files: int
    links: int
    broken_links: int
    orphans: list[str]
    clusters: list[int]  # the size of each group of linked notes, largest first
    most_linked: list[tuple[str, int]]  # notes by how many other notes link to them
    hubs: list[tuple[str, int]]  # notes by how many other notes they link to
    bridges: list[tuple[str, int]]  # notes whose removal splits their cluster, by degree
    deepest_chains: list[list[str]]  # the longest chains of structural dependencies
    deepest_chain_lengths: list[int]
    findings: int
    findings_per_rule: dict[str, int]
    degrees: dict[int, int]  # degree (notes linked in or out) -> how many notes have it


def vault_stats(vault: Vault, findings: Sequence[Finding]) -> VaultStats:
    """The statistics of a vault, with the findings a lint run gave for it."""
    if isinstance(vault.notes, NotesOnDemand):
        # A run that left notes unread (cached, or in workers): read them in parallel rather
        # than one by one as the loop below asks for them.
        vault.notes.read_all(vault.notes.unread())
    notes = {path: note for path, note in vault.notes.items() if is_note_path(path)}
    links = broken = 0
    reached: dict[str, tuple[str, ...]] = {}
    for path, note in vault.notes.items():
        for link, found in vault.resolved(note):
            links += 1
            if link.target and found.path is None:
                broken += 1
        reached[path] = _links_out(note, vault)[2]
    neighbours: dict[str, set[str]] = {path: set() for path in notes}
    linked_from: Counter[str] = Counter()
    out: Counter[str] = Counter()
    for path, targets in reached.items():
        for target in targets:
            if target in notes and path in notes:
                neighbours[path].add(target)
                neighbours[target].add(path)
                linked_from[target] += 1
                out[path] += 1
    groups = [g for g in clusters(reached) if any(p in notes for p in g)]
    sizes = sorted((sum(1 for p in g if p in notes) for g in groups), reverse=True)
    # As orphan-note counts them: a link to an attachment, or a card on a canvas, is a link.
    linked = {target for targets in reached.values() for target in targets}
    orphans = sorted(p for p in notes if not reached[p] and p not in linked and notes[p].decoded)
    degree = {path: len(others) for path, others in neighbours.items()}
    cut = _articulation_points(neighbours)
    chains = _deepest_chains({path: _dependencies(note, vault) for path, note in notes.items()})
    per_rule = Counter(f.rule for f in findings)
    return VaultStats(
        vault=str(vault.root),
        notes=len(notes),
        files=len(vault.files),
        links=links,
        broken_links=broken,
        orphans=orphans,
        clusters=[s for s in sizes if s > 0],
        most_linked=_ranked(linked_from),
        hubs=_ranked(out),
        bridges=_ranked(Counter({p: degree[p] for p in cut})),
        deepest_chains=[chain[:CHAIN_SHOWN] for chain in chains],
        deepest_chain_lengths=[len(chain) for chain in chains],
        findings=len(findings),
        findings_per_rule=dict(sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
        degrees=dict(sorted(Counter(degree.values()).items())),
    )


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(((p, n) for p, n in counts.items() if n), key=lambda pn: (-pn[1], pn[0]))[:TOP]


def _articulation_points(neighbours: Mapping[str, set[str]]) -> set[str]:
    """The notes whose removal splits their cluster (Hopcroft and Tarjan, without recursion)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    cut: set[str] = set()
    for start in sorted(neighbours):
        if start in order:
            continue
        order[start] = low[start] = len(order)
        children = 0
        stack: list[tuple[str, str | None, Iterator[str]]] = [
            (start, None, iter(sorted(neighbours[start])))
        ]
        while stack:
            node, parent, pending = stack[-1]
            step = next(pending, None)
            if step is None:
                stack.pop()
                if parent is not None:
                    low[parent] = min(low[parent], low[node])
                    if parent != start and low[node] >= order[parent]:
                        cut.add(parent)
                continue
            if step == parent:
                continue
            if step in order:
                low[node] = min(low[node], order[step])
                continue
            order[step] = low[step] = len(order)
            if node == start:
                children += 1
            stack.append((step, node, iter(sorted(neighbours[step]))))
        if children > 1:
            cut.add(start)
    return cut


def _deepest_chains(dependencies: Mapping[str, Iterable[tuple[str, object]]]) -> list[list[str]]:
    """The longest chains of structural dependencies, from different starting notes.

    Notes that depend on each other round about (a cycle, dependency-cycle's finding) count
    as one step: the walk is over the graph's knots, which form no cycle.
    """
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(dependencies)
    for path, deps in dependencies.items():
        graph.add_edges_from((path, target) for target, _ in deps)
    knots = nx.condensation(graph)
    members: Mapping[int, set[str]] = nx.get_node_attributes(knots, "members")
    depth: dict[int, int] = {}
    following: dict[int, int | None] = {}
    for knot in reversed(list(nx.topological_sort(knots))):
        best = max(knots.successors(knot), key=lambda k: (depth[k], -k), default=None)
        depth[knot] = 1 + (depth[best] if best is not None else 0)
        following[knot] = best
    starts = sorted(
        (k for k in knots if knots.in_degree(k) == 0 and depth[k] > 1),
        key=lambda k: (-depth[k], min(members[k])),
    )
    chains: list[list[str]] = []
    for knot in starts[:CHAINS]:
        chain: list[str] = []
        step: int | None = knot
        while step is not None:
            chain.append(min(members[step]))
            step = following[step]
        chains.append(chain)
    return chains


# ------------------------------------------------------------------------------- text, JSON


def stats_json(stats: VaultStats) -> str:
    """The statistics as one JSON object."""
    data = asdict(stats)
    data["degrees"] = {str(k): v for k, v in stats.degrees.items()}
    for key, count in (("most_linked", "linked_from"), ("hubs", "links_to"), ("bridges", "degree")):
        data[key] = [{"path": path, count: n} for path, n in getattr(stats, key)]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _pairs(rows: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{path} ({count})" for path, count in rows) or "none"


def _chain(chain: Sequence[str], length: int) -> str:
    more = length - len(chain)
    return " -> ".join(chain) + (f" -> ... ({more} more)" if more > 0 else "")


def stats_text(stats: VaultStats) -> str:
    """The statistics for a terminal: one measure a line."""
    sizes = stats.clusters
    shown = ", ".join(map(str, sizes[:TOP])) + (
        f", ... ({len(sizes) - TOP} more)" if len(sizes) > TOP else ""
    )
    lines = [
        f"vault          {stats.vault}",
        f"notes          {stats.notes} ({stats.files} files)",
        f"links          {stats.links} ({stats.broken_links} broken)",
        f"orphans        {len(stats.orphans)}"
        + (f": {', '.join(stats.orphans[:TOP])}" if stats.orphans else ""),
        f"clusters       {len(sizes)}" + (f", sizes {shown}" if sizes else ""),
        f"most linked    {_pairs(stats.most_linked)}",
        f"hubs           {_pairs(stats.hubs)}",
        f"bridges        {_pairs(stats.bridges)}",
    ]
    if stats.deepest_chains:
        lines.append("deepest dependency chains")
        lines += [
            f"  {length:>3}  {_chain(chain, length)}"
            for chain, length in zip(stats.deepest_chains, stats.deepest_chain_lengths, strict=True)
        ]
    else:
        lines.append("deepest dependency chains: none")
    lines.append(f"findings       {stats.findings}")
    lines += [f"  {count:>6}  {rule}" for rule, count in stats.findings_per_rule.items()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- HTML

_BAR = "#4c78a8"
_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; } td, th { padding: 2px 12px 2px 0; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: .6em 1em; min-width: 8em; }
.figure b { display: block; font-size: 1.6em; }
svg text { font: 12px system-ui, sans-serif; fill: #222; }
"""


def _bars(rows: Sequence[tuple[str, int]], label: str) -> str:
    """A horizontal bar chart as inline SVG: one labelled bar a row, the count at its end."""
    if not rows:
        return "<p>none</p>"
    height, label_width, bar_width = 22, 240, 420
    most = max(count for _, count in rows) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{html.escape(label)}" '
        f'width="{label_width + bar_width + 60}" height="{height * len(rows) + 4}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (name, count) in enumerate(rows):
        y = index * height + 2
        width = max(1, round(bar_width * count / most))
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{html.escape(name)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{width}" height="{height - 6}" '
            f'fill="{_BAR}"><title>{html.escape(name)}: {count}</title></rect>'
            f'<text x="{label_width + width + 6}" y="{y + 15}">{count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _degree_rows(degrees: Mapping[int, int]) -> list[tuple[str, int]]:
    """Degrees in buckets that double (0, 1, 2, 3-4, 5-8, ...), so one chart fits any vault."""
    buckets: Counter[tuple[int, int]] = Counter()
    for degree, count in degrees.items():
        low = high = degree
        if degree > 2:
            high = 2
            while high < degree:
                high *= 2
            low = high // 2 + 1
        buckets[(low, high)] += count
    return [
        (str(low) if low == high else f"{low}-{high}", count)
        for (low, high), count in sorted(buckets.items())
    ]


def _table(rows: Sequence[tuple[str, int]], heading: str) -> str:
    if not rows:
        return "<p>none</p>"
    body = "".join(
        f'<tr><td>{html.escape(path)}</td><td class="n">{count}</td></tr>' for path, count in rows
    )
    return f"<table><tr><th>note</th><th>{heading}</th></tr>{body}</table>"


def stats_html(stats: VaultStats) -> str:
    """The statistics as one self-contained HTML page with SVG charts."""
    figures = [
        ("notes", stats.notes),
        ("links", stats.links),
        ("broken links", stats.broken_links),
        ("orphans", len(stats.orphans)),
        ("clusters", len(stats.clusters)),
        ("findings", stats.findings),
    ]
    cluster_rows = [(f"cluster {i + 1}", size) for i, size in enumerate(stats.clusters[:20])]
    chains = "".join(
        f"<li>{length} notes: {html.escape(_chain(chain, length))}</li>"
        for chain, length in zip(stats.deepest_chains, stats.deepest_chain_lengths, strict=True)
    )
    orphans = ", ".join(html.escape(p) for p in stats.orphans[:50]) or "none"
    if len(stats.orphans) > 50:
        orphans += f" ... ({len(stats.orphans) - 50} more)"
    title = f"conceptgraph stats: {html.escape(stats.vault)}"
    body = [
        f"<h1>{title}</h1>",
        '<div class="figures">'
        + "".join(f'<div class="figure"><b>{n}</b>{what}</div>' for what, n in figures)
        + "</div>",
        "<h2>Findings per rule</h2>",
        _bars(list(stats.findings_per_rule.items()), "findings per rule"),
        "<h2>Cluster sizes</h2>",
        _bars(cluster_rows, "cluster sizes"),
        "<h2>Degree distribution (notes linked in or out)</h2>",
        _bars(_degree_rows(stats.degrees), "degree distribution"),
        "<h2>Most linked</h2>",
        _table(stats.most_linked, "linked from"),
        "<h2>Hubs</h2>",
        _table(stats.hubs, "links to"),
        "<h2>Bridges</h2>",
        "<p>Notes whose removal would split their cluster.</p>",
        _table(stats.bridges, "degree"),
        "<h2>Deepest dependency chains</h2>",
        f"<ol>{chains}</ol>" if chains else "<p>none</p>",
        "<h2>Orphans</h2>",
        f"<p>{orphans}</p>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
