r"""Generate a synthetic vault of concept notes for benchmarks.

The notes copy the shape of a real note (DESIGN.md section 1): YAML frontmatter, a
``# Title``, then ``Definition``, ``Preconditions``, ``Residuals``, ``Structural
dependencies``, ``What this is NOT`` and ``Examples`` sections. The links vary the way a
real vault does (``[[name|shown]]``, ``[[name#Heading]]``, ``[[name#^block]]``,
``[[folder/name]]``, ``[[Name]]``, ``[[name.md]]``, ``![[image-N.png]]``, ``\|`` in
tables) and all of them resolve, so a correct linter reports few findings. Links inside
code spans and fenced blocks name nothing on purpose.

Structural dependencies only point at notes generated earlier, so the dependency graph
is acyclic. Every note gets one incoming link from the note before it, so none is an
orphan. Names, aliases and negated concepts are unique once case, spaces and hyphens
are ignored, and no name or alias equals a frontmatter value, so the canonical and
negation rules have nothing to report.

With ``--defects``, the same vault then gets the defects users' vaults have, at rates like
theirs (``_DEFECTS``: per note): broken links, links back to later notes (so dependency
cycles, one of them large), mojibake, an alias another note already has, a "Not" naming the note's
own alias, a misspelt section heading, a frontmatter value of the wrong type, a line end of
another style. A second random stream picks them, so the clean bytes under them are the same.

The same ``notes``, ``seed`` and ``defects`` give byte-identical vaults. Usage::

    python benchmarks/generate_vault.py OUT_DIR --notes 10000 [--seed 0] [--defects]
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from random import Random

_NOUNS = (
    "boundary",
    "buffer",
    "cadence",
    "capacity",
    "coupling",
    "constraint",
    "contract",
    "coordination",
    "cost",
    "debt",
    "default",
    "delay",
    "dependency",
    "drift",
    "equilibrium",
    "erasure",
    "feedback",
    "friction",
    "gradient",
    "handoff",
    "horizon",
    "incentive",
    "inertia",
    "interface",
    "invariant",
    "ledger",
    "leverage",
    "lineage",
    "load",
    "lock",
    "loop",
    "margin",
    "memory",
    "momentum",
    "network",
    "norm",
    "obligation",
    "overhead",
    "pathway",
    "pressure",
    "protocol",
    "queue",
    "ratchet",
    "record",
    "redundancy",
    "reserve",
    "residue",
    "resilience",
    "rhythm",
    "routine",
    "scaffold",
    "schema",
    "seam",
    "signal",
    "slack",
    "surface",
    "threshold",
    "throughput",
    "trace",
    "tradeoff",
    "translation",
    "trust",
    "variance",
    "version",
    "window",
    "backlog",
    "baseline",
    "bottleneck",
    "budget",
    "cascade",
    "channel",
    "checkpoint",
    "commitment",
    "compression",
    "consensus",
    "continuity",
    "cutover",
    "decay",
    "displacement",
    "divergence",
    "entropy",
    "escalation",
    "exposure",
    "fallback",
    "fragility",
    "governance",
    "habit",
    "hierarchy",
    "hysteresis",
    "identity",
    "indexing",
    "infrastructure",
    "integration",
    "latency",
    "legacy",
    "liability",
    "lifecycle",
    "mandate",
    "mapping",
    "migration",
    "mitigation",
    "modularity",
    "monopoly",
    "narrative",
    "negotiation",
    "noise",
    "ownership",
    "partition",
    "patch",
    "permission",
    "persistence",
    "precedent",
    "propagation",
    "provenance",
    "quota",
    "reconciliation",
    "recursion",
    "regime",
    "registry",
    "renewal",
    "repair",
    "replication",
    "reputation",
    "retention",
    "ritual",
    "rollback",
    "saturation",
    "scarcity",
    "segmentation",
    "selection",
    "sediment",
    "settlement",
    "shim",
    "silo",
    "skew",
    "stewardship",
    "storage",
    "substitution",
    "succession",
    "sunset",
    "tariff",
    "taxonomy",
    "tempo",
    "tenure",
    "topology",
    "transfer",
    "turnover",
    "uncertainty",
    "upkeep",
    "usage",
    "valve",
    "visibility",
    "volatility",
    "workaround",
)

_ADJECTIVES = (
    "adaptive",
    "latent",
    "persistent",
    "partial",
    "staggered",
    "implicit",
    "explicit",
    "deferred",
    "distributed",
    "local",
    "global",
    "shared",
    "nested",
    "recursive",
    "structural",
    "temporal",
    "spatial",
    "formal",
    "informal",
    "brittle",
    "robust",
    "elastic",
    "sticky",
    "silent",
    "visible",
    "hidden",
    "stale",
    "fresh",
    "chronic",
    "acute",
    "gradual",
    "abrupt",
    "layered",
    "coupled",
    "decoupled",
    "bounded",
    "unbounded",
    "linear",
    "cyclic",
    "asymmetric",
    "symmetric",
    "emergent",
    "inherited",
    "borrowed",
    "contested",
    "negotiated",
    "tacit",
    "procedural",
    "reversible",
    "irreversible",
    "cumulative",
    "marginal",
    "systemic",
    "peripheral",
    "central",
    "upstream",
    "downstream",
    "lateral",
    "mutual",
    "collective",
    "individual",
    "durable",
    "transient",
    "provisional",
    "derived",
    "primary",
    "secondary",
    "tertiary",
    "dormant",
    "active",
    "passive",
    "reactive",
    "proactive",
    "lossy",
    "lossless",
    "compound",
    "atomic",
    "granular",
    "coarse",
    "dense",
    "sparse",
    "open",
    "closed",
    "soft",
    "hard",
    "slow",
    "fast",
    "long",
    "short",
    "narrow",
    "wide",
    "deep",
    "shallow",
)

_VERBS = (
    "moves",
    "absorbs",
    "displaces",
    "preserves",
    "amplifies",
    "dampens",
    "routes",
    "buffers",
    "shifts",
    "stabilizes",
    "couples",
    "decouples",
    "records",
    "erases",
    "defers",
    "translates",
    "compresses",
    "exposes",
    "hides",
    "carries",
    "accumulates",
    "releases",
    "redistributes",
    "constrains",
    "enables",
    "masks",
    "reconciles",
    "propagates",
    "narrows",
    "widens",
    "anchors",
    "splits",
    "merges",
    "filters",
    "throttles",
    "replays",
    "reshapes",
    "dilutes",
    "concentrates",
    "converts",
)

_SUBJECTS = (
    "It",
    "This",
    "The operator",
    "The pattern",
    "Each cycle",
    "The mechanism",
    "In practice it",
)

_DOMAINS = (
    "Technical",
    "Institutions",
    "Personal",
    "Ecology",
    "Software",
    "Finance",
    "Teams",
    "Logistics",
    "Law",
)

_FOLDER_WORDS = (
    "foundations",
    "mechanisms",
    "dynamics",
    "accounting",
    "institutions",
    "infrastructure",
    "coordination",
    "measurement",
    "patterns",
    "failure-modes",
    "economics",
    "ecology",
    "software",
    "governance",
    "learning",
    "networks",
    "signals",
    "operators",
)

_SUBFOLDER_WORDS = (
    "core",
    "applied",
    "advanced",
    "history",
    "edge-cases",
    "case-studies",
    "primitives",
    "variants",
)

_TOP_FOLDERS = 14
_SUB_FOLDERS = 6
_ATTACHMENTS = "attachments"

_LAYERS = ("mechanism", "substrate", "dynamics", "accounting")
_ROLES = ("concept", "primitive", "measure")
_TYPES = ("mechanism", "structure", "process")
_NOTE_KINDS = ("operator", "entity", "relation")

# Negations and aliases are matched against these values (negation-contradicts-type),
# so no generated name or alias may equal one of them.
_RESERVED = frozenset({"residual", "residuals", *_LAYERS, *_ROLES, *_TYPES, *_NOTE_KINDS})

_REQUIRED_HEADINGS = (
    "Definition",
    "Preconditions",
    "Residuals",
    "Structural dependencies",
    "What this is NOT",
    "Examples",
)
_STATE_HEADING = "State transition (schematic)"
_HOOKS_HEADING = "Accounting hooks"

_BLOCK_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True, slots=True)
class _Note:
    index: int
    name: str
    folder: str
    title: str
    aliases: tuple[str, ...]
    block_id: str | None
    headings: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.name}" if self.folder else self.name

    @property
    def words(self) -> str:
        return self.name.replace("-", " ").lower()


@dataclass(frozen=True, slots=True)
class _Stats:
    notes: int
    attachments: int
    folders: int
    note_bytes: int
    wikilinks: int
    embeds: int


def _key(text: str) -> str:
    # duplicate-canonical and alias-collision compare case-, space- and
    # hyphen-insensitively, so uniqueness is checked on this key.
    return text.lower().replace(" ", "").replace("-", "").replace("_", "")


def _png() -> bytes:
    """Return a valid 1x1 transparent PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _folders(rng: Random) -> list[str]:
    top = rng.sample(_FOLDER_WORDS, _TOP_FOLDERS)
    nested: list[str] = []
    while len(nested) < _SUB_FOLDERS:
        path = f"{rng.choice(top)}/{rng.choice(_SUBFOLDER_WORDS)}"
        if path not in nested:
            nested.append(path)
    return top + nested


# Past about 30,000 notes the word lists run out of unused names and aliases: after this many
# collisions in a row, a number is added ("erasure-cost-417"), so 100,000 notes can be made.
_TRIES = 50


def _numeral(rng: Random) -> str:
    return str(rng.randrange(2, 100_000))


def _name(rng: Random, taken: set[str], residual: bool) -> str:
    tries = 0
    while True:
        tries += 1
        roll = rng.random()
        if residual:
            words = ["residual", rng.choice(_NOUNS)]
            if roll < 0.4:
                words.insert(1, rng.choice(_ADJECTIVES))
        elif roll < 0.06:
            words = [rng.choice(_NOUNS)]
        elif roll < 0.55:
            words = [rng.choice(_ADJECTIVES), rng.choice(_NOUNS)]
        elif roll < 0.85:
            words = rng.sample(_NOUNS, 2)
        else:
            words = [rng.choice(_ADJECTIVES), *rng.sample(_NOUNS, 2)]
        if tries > _TRIES:
            words.append(_numeral(rng))
        key = _key("".join(words))
        if key in taken or key in _RESERVED:
            continue
        taken.add(key)
        if not residual and rng.random() < 0.03:
            # A few notes are named the way people type titles: "Feedback Loop.md".
            return " ".join(word.capitalize() for word in words)
        return "-".join(words)


def _alias(rng: Random, taken: set[str]) -> str:
    tries = 0
    while True:
        tries += 1
        roll = rng.random()
        if roll < 0.2:
            words = [rng.choice(_NOUNS)]
        elif roll < 0.8:
            words = [rng.choice(_ADJECTIVES), rng.choice(_NOUNS)]
        else:
            words = [rng.choice(_NOUNS), "of", rng.choice(_NOUNS)]
        if tries > _TRIES:
            words.append(_numeral(rng))
        key = _key("".join(words))
        if key in taken or key in _RESERVED:
            continue
        taken.add(key)
        return " ".join(words)


def _plan(rng: Random, count: int) -> list[_Note]:
    folders = _folders(rng)
    taken: set[str] = set()
    names = [_name(rng, taken, residual=i < 2 or i % 25 == 0) for i in range(count)]
    notes: list[_Note] = []
    for index, name in enumerate(names):
        aliases = tuple(_alias(rng, taken) for _ in range(rng.choices((1, 2, 3), (5, 4, 1))[0]))
        block_id = None
        if rng.random() < 0.3:
            block_id = "".join(rng.choices(_BLOCK_ID_CHARS, k=6))
        headings = list(_REQUIRED_HEADINGS)
        if rng.random() < 0.15:
            headings.insert(2, _STATE_HEADING)
        if rng.random() < 0.4:
            headings.insert(-1, _HOOKS_HEADING)
        title = name if " " in name else name.replace("-", " ").capitalize()
        folder = "" if rng.random() < 0.02 else rng.choice(folders)
        notes.append(_Note(index, name, folder, title, aliases, block_id, tuple(headings)))
    return notes


class _Writer:
    """Render the planned notes; counts every wikilink and embed it writes."""

    def __init__(self, rng: Random, notes: list[_Note], images: int) -> None:
        self.rng = rng
        self.notes = notes
        self.images = images
        self.residuals = [note for note in notes if note.name.startswith("residual-")]
        self.with_blocks = [note for note in notes if note.block_id is not None]
        self.wikilinks = 0
        self.embeds = 0

    # -- words -----------------------------------------------------------------

    def _sentence(self) -> str:
        rng = self.rng
        pick = rng.choice
        kind = rng.randrange(6)
        if kind == 0:
            return (
                f"{pick(_SUBJECTS)} {pick(_VERBS)} {pick(_NOUNS)} across the "
                f"{pick(_ADJECTIVES)} {pick(_NOUNS)}."
            )
        if kind == 1:
            return (
                f"Under {pick(_ADJECTIVES)} {pick(_NOUNS)}, it {pick(_VERBS)} the "
                f"{pick(_NOUNS)} and {pick(_VERBS)} {pick(_ADJECTIVES)} {pick(_NOUNS)}."
            )
        if kind == 2:
            return (
                f"The {pick(_NOUNS)} {pick(_VERBS)} {pick(_NOUNS)} while the "
                f"{pick(_NOUNS)} stays {pick(_ADJECTIVES)}."
            )
        if kind == 3:
            return (
                f"Where {pick(_NOUNS)} is {pick(_ADJECTIVES)}, the operator "
                f"{pick(_VERBS)} {pick(_NOUNS)} through {pick(_NOUNS)}."
            )
        if kind == 4:
            return (
                f"{pick(_SUBJECTS)} does work to keep {pick(_NOUNS)} "
                f"{pick(_ADJECTIVES)} while {pick(_NOUNS)} {pick(_VERBS)} "
                f"{pick(_NOUNS)}."
            )
        return (
            f"Over time it {pick(_VERBS)} {pick(_ADJECTIVES)} {pick(_NOUNS)} into "
            f"{pick(_NOUNS)} and {pick(_NOUNS)}."
        )

    def _phrase(self) -> str:
        rng = self.rng
        return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"

    def _clause(self) -> str:
        rng = self.rng
        return (
            f"{rng.choice(_VERBS)} {rng.choice(_NOUNS)} "
            f"{rng.choice(('without', 'before', 'after', 'instead of'))} "
            f"{rng.choice(_NOUNS)}"
        )

    # -- links -----------------------------------------------------------------

    def _other(self, note: _Note) -> _Note:
        while True:
            other = self.notes[self.rng.randrange(len(self.notes))]
            if other.index != note.index:
                return other

    def _shown(self, target: _Note) -> str:
        if self.rng.random() < 0.5:
            return self.rng.choice(target.aliases)
        return target.words

    def _wikilink(self, inner: str, *, table: bool = False) -> str:
        self.wikilinks += 1
        return "[[" + (inner.replace("|", "\\|") if table else inner) + "]]"

    def _link(self, note: _Note) -> str:
        """Return an ordinary link from ``note`` to another note, in a random form."""
        rng = self.rng
        target = self._other(note)
        roll = rng.random()
        if roll < 0.52:
            inner = target.name
        elif roll < 0.66:
            inner = f"{target.name}|{self._shown(target)}"
        elif roll < 0.74:
            inner = f"{target.name}#{rng.choice(target.headings)}"
        elif roll < 0.80:
            block = rng.choice(self.with_blocks) if self.with_blocks else note
            # A note's own block would be a self-link: fall back to a plain link.
            own = block.index == note.index
            inner = target.name if own else f"{block.name}#^{block.block_id}"
        elif roll < 0.88:
            inner = target.path
        elif roll < 0.90:
            inner = f"{target.path}|{self._shown(target)}"
        elif roll < 0.93:
            heading = rng.choice(target.headings)
            inner = f"{target.name}#{heading}|{self._shown(target)}"
        elif roll < 0.97:
            name = target.name
            # Obsidian matches names case-insensitively.
            inner = name.lower() if name != name.lower() else name.capitalize()
        else:
            inner = f"{target.name}.md"
        return self._wikilink(inner)

    # -- sections --------------------------------------------------------------

    def _frontmatter(self, note: _Note) -> str:
        rng = self.rng
        aliases = "".join(f'  - "{alias}"\n' for alias in note.aliases)
        return (
            f"---\naliases:\n{aliases}"
            f"layer: {rng.choice(_LAYERS)}\n"
            f"role: {rng.choice(_ROLES)}\n"
            f"type: {rng.choice(_TYPES)}\n"
            "canonical: true\n"
            f"note_kind: {rng.choice(_NOTE_KINDS)}\n---\n"
        )

    def _definition(self, note: _Note) -> str:
        rng = self.rng
        adjective = rng.choice(_ADJECTIVES)
        article = "an" if adjective[0] in "aeiou" else "a"
        sentences = [
            f"**{note.title}** is {article} {adjective} {rng.choice(_NOUNS)} that "
            f"{rng.choice(_VERBS)} {rng.choice(_NOUNS)} across a "
            f"{rng.choice(_NOUNS)} boundary, typically under "
            f"{self._phrase()} and {self._phrase()}."
        ]
        sentences += [self._sentence() for _ in range(rng.randint(2, 4))]
        for _ in range(rng.randint(2, 3)):
            link = self._link(note)
            sentences.insert(
                rng.randint(1, len(sentences)),
                rng.choice(
                    (
                        f"It is closely related to {link}.",
                        f"It usually appears together with {link}.",
                        f"Compare {link}, which {rng.choice(_VERBS)} {rng.choice(_NOUNS)} instead.",
                        f"Read {link} for the {self._phrase()} it leaves out.",
                    )
                ),
            )
        paragraph = " ".join(sentences)
        if note.block_id is not None:
            paragraph += f" ^{note.block_id}"
        return f"## Definition\n\n{paragraph}\n"

    def _preconditions(self, note: _Note) -> str:
        rng = self.rng
        bullets = [
            f"- A {self._phrase()} with enough {rng.choice(_NOUNS)} to accept the "
            f"{rng.choice(_NOUNS)}.",
            f"- A coordination surface ({rng.choice(_NOUNS)}, {rng.choice(_NOUNS)}) "
            f"to manage {self._phrase()}.",
        ]
        if rng.random() < 0.5:
            bullets.append(f"- {self._sentence()}")
        if rng.random() < 0.3:
            bullets.append(f"- Enough {rng.choice(_NOUNS)} to sustain {self._link(note)}.")
        if rng.random() < 0.2:
            # A link in a code span is text, not an edge: a linter must not resolve it.
            bullets.append(
                f"- Writing `[[scratch-{note.index}]]` in a code span keeps the "
                f"{rng.choice(_NOUNS)} literal."
            )
        return "## Preconditions\n\n" + "\n".join(bullets) + "\n"

    def _state(self) -> str:
        rng = self.rng
        first, second = rng.sample(_NOUNS, 2)
        return (
            f"## {_STATE_HEADING}\n\n"
            f"Scheme {first} → mixed {first}/{second} (dual-run) → scheme {second} "
            "(with residue)\n"
        )

    def _residuals(self, note: _Note) -> str:
        rng = self.rng
        candidates = rng.sample(self.residuals, min(2, len(self.residuals)))
        target = next((r for r in candidates if r.index != note.index), None)
        lead = f"{note.title} typically leaves "
        if target is not None:
            lead += self._wikilink(f"{target.name}|residuals")
        else:
            lead += "residuals"
        bullets = "".join(
            f"- {self._phrase()} ({rng.choice(_NOUNS)}, {rng.choice(_NOUNS)} and "
            f"{self._phrase()})\n"
            for _ in range(rng.randint(2, 4))
        )
        return f"## Residuals\n\n{lead} such as:\n{bullets}"

    def _dependencies(self, note: _Note, avoid: set[int]) -> str:
        rng = self.rng
        count = min(note.index, rng.randint(1, 4))
        lines = []
        # Only earlier notes: the dependency graph stays acyclic.
        for index in sorted(rng.sample(range(note.index), count), reverse=True):
            target = self.notes[index]
            avoid.add(index)
            roll = rng.random()
            if roll < 0.8:
                inner = target.name
            elif roll < 0.95:
                inner = target.path
            else:
                inner = f"{target.name}|{target.words}"
            lines.append(f"- {self._wikilink(inner)}\n")
        if not lines:
            lines.append("- None: this is a foundational concept.\n")
        gap = "\n" if rng.random() < 0.5 else ""
        return "## Structural dependencies\n" + gap + "".join(lines)

    def _negation_target(self, note: _Note, avoid: set[int]) -> _Note | None:
        # A bounded number of tries: a vault of a handful of notes may have no
        # concept left to negate.
        for _ in range(20):
            target = self._other(note)
            if target.index not in avoid and not target.name.startswith("residual-"):
                avoid.add(target.index)
                return target
        return None

    def _negations(self, note: _Note, avoid: set[int]) -> str:
        rng = self.rng
        bullets: list[str] = []
        linked = rng.random() < 0.15
        for _ in range(rng.randint(2, 4)):
            target = self._negation_target(note, avoid)
            if target is None:
                break
            why = f"({note.title.lower()} {self._clause()})"
            if linked and not bullets:
                bullets.append(f"- Not {self._wikilink(target.name)} {why}.")
                continue
            words = target.words
            roll = rng.random()
            if roll < 0.6:
                article = "an " if words[0] in "aeiou" else "a "
            elif roll < 0.75:
                article = "the "
            else:
                article = ""
            bullets.append(f"- Not {article}{words} {why}.")
        if not bullets:
            bullets.append("- Not a rename (it names no concept of this vault).")
        return "## What this is NOT\n\n" + "\n".join(bullets) + "\n"

    def _hooks(self, note: _Note) -> str:
        sentences = " ".join(self._sentence() for _ in range(self.rng.randint(2, 3)))
        return (
            f"## {_HOOKS_HEADING}\n\n{note.title} is legible when {self._phrase()} "
            f"is tracked. {sentences}\n"
        )

    def _examples(self, note: _Note) -> str:
        rng = self.rng
        bullets = []
        for domain in rng.sample(_DOMAINS, rng.randint(2, 3)):
            bullets.append(
                f"- {domain}: {rng.choice(_NOUNS)} {rng.choice(_NOUNS)}; residuals "
                f"include {self._phrase()} and {self._phrase()}."
            )
        for index in rng.sample(range(len(bullets)), rng.randint(1, 2)):
            bullets[index] = bullets[index][:-1] + f", as in {self._link(note)}."
        # Every note is linked from the one before it, so none is an orphan.
        following = self.notes[(note.index + 1) % len(self.notes)]
        inner = following.name if rng.random() < 0.8 else following.path
        bullets.append(f"- See also {self._wikilink(inner)}.")
        parts = ["## Examples\n\n" + "\n".join(bullets) + "\n"]
        if rng.random() < 0.12:
            self.embeds += 1
            image = rng.randrange(self.images)
            parts.append(f"\n!{self._wikilink(f'image-{image}.png')}\n")
        if rng.random() < 0.02:
            self.embeds += 1
            target = self._other(note)
            parts.append(f"\n!{self._wikilink(f'{target.name}#Definition')}\n")
        if note.index % 10 == 7:
            parts.append(self._fence(note))
        if rng.random() < 0.04:
            parts.append(self._table(note))
        return "".join(parts)

    def _fence(self, note: _Note) -> str:
        rng = self.rng
        fence = "~~~" if rng.random() < 0.2 else "```"
        language = rng.choice(("text", "markdown", "yaml", ""))
        return (
            f"\n{fence}{language}\n"
            f"- [[placeholder-{note.index}]] stays text inside a fence\n"
            f"![[missing-{note.index}.png]]\n"
            f"{fence}\n"
        )

    def _table(self, note: _Note) -> str:
        rows = []
        for _ in range(2):
            target = self._other(note)
            link = self._wikilink(f"{target.name}|{self._shown(target)}", table=True)
            rows.append(f"| {link} | {self.rng.choice(_VERBS)} |\n")
        return "\n| concept | relation |\n| --- | --- |\n" + "".join(rows)

    def render(self, note: _Note) -> str:
        """Return the full text of ``note``."""
        parts = [self._frontmatter(note), f"\n# {note.title}\n\n"]
        # Negations skip the note itself and its dependencies, so dependencies are
        # rendered first whatever their place in the note.
        avoid = {note.index}
        dependencies = self._dependencies(note, avoid)
        sections: dict[str, Callable[[], str]] = {
            "Definition": lambda: self._definition(note),
            "Preconditions": lambda: self._preconditions(note),
            _STATE_HEADING: self._state,
            "Residuals": lambda: self._residuals(note),
            "Structural dependencies": lambda: dependencies,
            "What this is NOT": lambda: self._negations(note, avoid),
            _HOOKS_HEADING: lambda: self._hooks(note),
            "Examples": lambda: self._examples(note),
        }
        parts.append("\n".join(sections[heading]() for heading in note.headings))
        return "".join(parts)


# Per note, the chance of each defect; a note can have several.
_DEFECTS = {
    "broken-link": 0.12,
    "back-edge": 0.02,
    "mojibake": 0.03,
    "shared-alias": 0.02,
    "negated-alias": 0.01,
    "misspelt-heading": 0.01,
    "wrong-type": 0.005,
    "crlf-line": 0.01,
}
_MOJIBAKE = "The flow goes from one state → the next, and that’s the café’s “naïve” view."


def _damage(rng: Random, note: _Note, text: str, notes: list[_Note]) -> str:
    """``text`` with the defects ``rng`` picks for ``note``."""

    def picked(defect: str) -> bool:
        return rng.random() < _DEFECTS[defect]

    if picked("broken-link"):
        text = text.rstrip("\n") + f" See [[missing {rng.randrange(10**6)}]].\n"
    if picked("back-edge") and note.index + 1 < len(notes):
        later = notes[rng.randrange(note.index + 1, len(notes))]
        text = text.replace(
            "## Structural dependencies\n", f"## Structural dependencies\n- [[{later.name}]]\n", 1
        )
    if picked("mojibake"):
        broken = _MOJIBAKE.encode("utf-8").decode("cp1252", errors="replace")
        text = text.rstrip("\n") + f" {broken}\n"
    if picked("shared-alias"):
        other = notes[rng.randrange(len(notes))]
        if other.index != note.index:
            text = text.replace("aliases:\n", f'aliases:\n  - "{other.title}"\n', 1)
    if picked("negated-alias"):
        said = note.aliases[0] if note.aliases else note.name
        text = text.replace(
            "## What this is NOT\n\n",
            f"## What this is NOT\n\n- Not {said} (it is said both ways).\n",
            1,
        )
    if picked("misspelt-heading"):
        text = text.replace("## Definition\n", "## Defintion\n", 1)
    if picked("wrong-type"):
        text = text.replace("canonical: true\n", 'canonical: "yes"\n', 1)
    if picked("crlf-line"):
        text = text.replace("\n", "\r\n", 1)
    return text


def _generate(out: Path, notes: int, seed: int, defects: bool = False) -> _Stats:
    if notes < 2:
        # A single note could only link to itself.
        raise ValueError(f"notes must be at least 2, not {notes}")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    rng = Random(seed)
    planned = _plan(rng, notes)
    images = max(1, notes // 10)
    writer = _Writer(rng, planned, images)
    damage = Random(seed + 1)
    made: set[Path] = set()
    note_bytes = 0
    for note in planned:
        folder = out / note.folder if note.folder else out
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        text = writer.render(note)
        if defects:
            text = _damage(damage, note, text, planned)
        data = text.encode("utf-8")
        (folder / f"{note.name}.md").write_bytes(data)
        note_bytes += len(data)
    attachments = out / _ATTACHMENTS
    attachments.mkdir(parents=True, exist_ok=True)
    png = _png()
    for image in range(images):
        (attachments / f"image-{image}.png").write_bytes(png)
    return _Stats(
        notes=notes,
        attachments=images,
        folders=len({note.folder for note in planned if note.folder}),
        note_bytes=note_bytes,
        wikilinks=writer.wikilinks,
        embeds=writer.embeds,
    )


def generate_vault(out: Path, notes: int, seed: int = 0, defects: bool = False) -> None:
    """Write a synthetic vault of ``notes`` notes into ``out``, with defects if asked.

    ``out`` is created if needed and must be empty. The same ``notes``, ``seed`` and
    ``defects`` always give the same bytes. Raises ``FileExistsError`` if ``out`` holds
    files and ``ValueError`` if ``notes`` is below 2.
    """
    _generate(out, notes, seed, defects)


def main(argv: list[str] | None = None) -> int:
    """Run the command line: generate a vault and print its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to create (must be empty)")
    parser.add_argument("--notes", type=int, required=True, help="number of notes")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--defects", action="store_true", help="add the defects of a user's vault (_DEFECTS)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        stats = _generate(args.out, args.notes, args.seed, args.defects)
    except (FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(
        f"{stats.notes} notes in {stats.folders} folders, "
        f"{stats.attachments} attachments\n"
        f"{stats.note_bytes} bytes of notes "
        f"({stats.note_bytes / 1e6:.1f} MB, {stats.note_bytes / stats.notes:.0f} "
        "bytes per note)\n"
        f"{stats.wikilinks} wikilinks ({stats.wikilinks / stats.notes:.1f} per "
        f"note), {stats.embeds} of them embeds\n"
        f"written to {args.out} in {elapsed:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
