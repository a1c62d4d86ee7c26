"""conceptgraph: a typed knowledge graph and linter for vaults of Markdown concept notes.

The package by stage, each folder's docstring saying what goes in and what comes out:

- :mod:`conceptgraph.note`: one file's bytes -> a ``NoteRecord`` (decoding, frontmatter, the
  Markdown engines, wikilinks, negations);
- :mod:`conceptgraph.vault`: a folder -> a ``Vault`` (discovery, reading, Obsidian's link
  resolution, concept keys);
- :mod:`conceptgraph.lint`: a vault -> findings (engine, rules, cache, incremental and
  parallel runs, reports, fixes, rule docs);
- :mod:`conceptgraph.graph` and :mod:`conceptgraph.export`: the typed graph, and a vault ->
  bytes in a format (DOT, SVG, Mermaid, JSON, the RDF formats), diagram blocks in Markdown;
- :mod:`conceptgraph.rdf`: the RDF services (triples, SPARQL, the kept store, SHACL, serve,
  push).

Shared by all: :mod:`.model` (the records), :mod:`.config` and :mod:`.settings` (the file
and the command line), :mod:`.errors`, :mod:`.names`, :mod:`.atomic`, :mod:`.guard` and
:mod:`.boundary` (writing inside the vault), :mod:`.pool`, :mod:`.progress`, :mod:`.watch`.
:mod:`.api` is the library's entry points; :mod:`.cli` a thin layer over it.
"""

from conceptgraph import _moved

__version__ = "0.1.0"

_moved.install()
